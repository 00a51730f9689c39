using System.Net;
using ContentService.Security;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Resilience.Testing;

namespace ContentService.Tests.Security;

[Collection(PostgresTests.Name)]
public sealed class LimitsTests(PostgresFixture postgres)
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
