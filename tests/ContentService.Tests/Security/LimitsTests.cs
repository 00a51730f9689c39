using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Time.Testing;
using ContentService.Security;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Resilience.Testing;

namespace ContentService.Tests.Security;

public sealed class LimitsTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task RateLimit_PerClient_Returns429WithRetryAfter_OtherClientsUnaffected()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["RateLimiting:PermitsPerWindow"] = "3",
            ["RateLimiting:Window"] = "00:10:00",
            ["Security:ApiKeys:other"] = "another-client-key-0000",
        });
        using var writer = factory.CreateWriter();
        using var other = factory.CreateClient();
        other.DefaultRequestHeaders.Add("X-Api-Key", "another-client-key-0000");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await Json.GetAsync(writer, "/api/tasks");
            statuses.Add(response.StatusCode);
            if (i == 3)
            {
                await Problem.AssertAsync(response, HttpStatusCode.TooManyRequests, "ERR_RATE_LIMITED");
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is missing");
            }
        }

        using var otherResponse = await Json.GetAsync(other, "/api/tasks");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.OK, otherResponse.StatusCode);
    }

    [Fact]
    public async Task RateLimit_InventedKeys_ShareTheirAddressAllowance()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["RateLimiting:PermitsPerWindow"] = "2",
            ["RateLimiting:Window"] = "00:10:00",
        });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var client = factory.CreateClient();
            client.DefaultRequestHeaders.Add("X-Api-Key", $"invented-key-{i}-0123456789");
            using var response = await Json.GetAsync(client, "/api/tasks");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task GlobalConcurrencyLimit_Full_Returns429ForEveryClient()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["RateLimiting:ConcurrencyLimit"] = "1",
            ["RateLimiting:ConcurrencyQueueLimit"] = "0",
        });
        using var first = factory.CreateClient();
        using var second = factory.CreateClient();
        second.DefaultRequestHeaders.Add("X-Api-Key", "some-other-client-0000");
        _ = factory.Services;
        var tableLock = await TableLock.TakeAsync(connectionString, "content_tasks");

        // The first request holds the only slot while it waits for the lock; the second finds the service full.
        var held = Json.GetAsync(first, "/api/tasks");
        await TableLock.WaitForWaiterAsync(connectionString);
        using var rejected = await Json.GetAsync(second, "/api/tasks");
        await tableLock.DisposeAsync();
        using var completed = await held;

        await Problem.AssertAsync(rejected, HttpStatusCode.TooManyRequests, "ERR_RATE_LIMITED");
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
    }

    /// <summary>Regression: after 120 anonymous requests in 10 s, /health/live, /health/ready and /status answered 429.</summary>
    [Fact]
    public async Task RateLimit_ClientOverItsAllowance_ProbesAndStatusPageStillAnswer()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["RateLimiting:PermitsPerWindow"] = "2",
            ["RateLimiting:StatusPermitsPerWindow"] = "2",
            ["RateLimiting:Window"] = "00:10:00",
        });
        using var client = factory.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            using var ok = await Json.GetAsync(client, "/api/tasks");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var limited = await Json.GetAsync(client, "/api/tasks");
        await Problem.AssertAsync(limited, HttpStatusCode.TooManyRequests, "ERR_RATE_LIMITED");

        // Probes are never limited; the status page has its own allowance, then is limited on its own.
        for (var i = 0; i < 5; i++)
        {
            using var live = await Json.GetAsync(client, "/health/live");
            using var ready = await Json.GetAsync(client, "/health/ready");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        using var page = await Json.GetAsync(client, "/status");
        using var data = await Json.GetAsync(client, "/status/data");
        using var pageLimited = await Json.GetAsync(client, "/status/data");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.OK, data.StatusCode);
        await Problem.AssertAsync(pageLimited, HttpStatusCode.TooManyRequests, "ERR_RATE_LIMITED");
    }

    /// <summary>Regression: Retry-After was always the whole window (10 s), not the time left in it.</summary>
    [Fact]
    public async Task RateLimit_Rejected_RetryAfterIsTheTimeLeftInTheWindow()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["RateLimiting:PermitsPerWindow"] = "1",
            ["RateLimiting:Window"] = "00:00:10",
        })
        {
            ConfigureTestServices = s => s.AddSingleton<TimeProvider>(clock),
        };
        using var client = factory.CreateClient();
        using (var first = await Json.GetAsync(client, "/api/tasks"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        clock.Advance(TimeSpan.FromSeconds(7));
        using var limited = await Json.GetAsync(client, "/api/tasks");
        var problem = await Problem.AssertAsync(limited, HttpStatusCode.TooManyRequests, "ERR_RATE_LIMITED");
        Assert.Equal(TimeSpan.FromSeconds(3), limited.Headers.RetryAfter?.Delta);
        Assert.Equal(3, problem.GetProperty("retryAfterSeconds").GetInt32());

        clock.Advance(TimeSpan.FromSeconds(3));
        using var next = await Json.GetAsync(client, "/api/tasks");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    /// <summary>X-Forwarded-For counts only from a configured proxy: behind one, clients get their own allowances; without one, the header buys nothing.</summary>
    [Theory]
    [InlineData("127.0.0.1", HttpStatusCode.OK)]
    [InlineData(null, HttpStatusCode.TooManyRequests)]
    public async Task RateLimit_ForwardedFor_BelievedOnlyFromAConfiguredProxy(string? proxy, HttpStatusCode secondClient)
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        var settings = new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["RateLimiting:PermitsPerWindow"] = "1",
            ["RateLimiting:Window"] = "00:10:00",
        };
        if (proxy is not null)
        {
            settings["RateLimiting:KnownProxies:0"] = proxy;
        }

        await using var factory = new ContentServiceFactory(connectionString, settings: settings);
        factory.UseKestrel(static o => o.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var http = new HttpClient { BaseAddress = address };

        var first = await GetAsAsync(http, "203.0.113.1");
        var again = await GetAsAsync(http, "203.0.113.1");
        var other = await GetAsAsync(http, "203.0.113.2");

        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal(HttpStatusCode.TooManyRequests, again);
        Assert.Equal(secondClient, other);

        static async Task<HttpStatusCode> GetAsAsync(HttpClient http, string client)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/tasks", UriKind.Relative));
            request.Headers.Add("X-Forwarded-For", client);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
    }

    [Fact]
    public async Task RejectedWrite_LogsTheKeyIdNeverTheKey()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        var logs = new CapturingLogger();
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?> { ["Executor:Workers"] = "0" })
        {
            ConfigureTestServices = s => s.AddSingleton<ILoggerProvider>(logs),
        };
        using var client = factory.CreateClient();
        const string presented = "a-guessed-key-0123456789";
        client.DefaultRequestHeaders.Add("X-Api-Key", presented);

        using var response = await Json.PostAsync(client, "/api/tasks", new { topic = "Sneaky" });

        await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "ERR_UNAUTHORIZED");
        Assert.Contains(logs.Entries, e => e.Message.Contains(ApiKeyStore.KeyIdOf(presented), StringComparison.Ordinal) && e.Message.Contains("ERR_UNAUTHORIZED", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(presented, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BodyOverLimit_Returns413PayloadTooLarge()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["Security:MaxRequestBodyBytes"] = "2048",
        });
        using var writer = factory.CreateWriter();

        using var response = await Json.PostAsync(writer, "/api/tasks", new { topic = new string('x', 4000) });

        await Problem.AssertAsync(response, HttpStatusCode.RequestEntityTooLarge, "ERR_PAYLOAD_TOO_LARGE");
    }

    [Fact]
    public async Task Startup_NoApiKeyConfigured_StopsNamingTheKey()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?> { ["Security:ApiKeys:tests"] = null });

        var error = Assert.ThrowsAny<Exception>(() => factory.Services);

        Assert.Contains("Security:ApiKeys", error.ToString(), StringComparison.Ordinal);
    }
}
