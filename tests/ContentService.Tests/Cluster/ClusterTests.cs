using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Resilience.CircuitBreaking;
using Resilience.Http;
using Resilience.Testing;
using Xunit.Abstractions;

namespace ContentService.Tests.Cluster;

/// <summary>Two instances of the service in one process on one database, joined as a cluster (<c>Cluster:Enabled</c>).</summary>
public sealed class ClusterTests(PostgresFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    private const int Limit = 40;

    [Fact]
    public async Task PerKeyLimit_TwoInstances_HoldsAcrossBothWithinTenPercent()
    {
        var started = Stopwatch.StartNew();
        await using var harness = await ServiceHarness.StartAsync(postgres.ConnectionString);
        var window = WindowWithRoom();
        var settings = new Dictionary<string, string?>
        {
            ["RateLimiting:PermitsPerWindow"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimiting:Window"] = window.ToString(),
        };
        var a = harness.AddInstance(Clustered("a", settings));
        var b = harness.AddInstance(Clustered("b", settings));
        using var clientA = a.CreateWriter();
        using var clientB = b.CreateWriter();
        var clients = new[] { clientA, clientB };
        var accepted = new int[2];

        // One client through both instances, alternately, until the cluster's window is spent (each instance alone would
        // accept the whole limit: 2× between them)...
        output.WriteLine($"hosts up in {started.Elapsed}");
        var clock = Stopwatch.StartNew();
        while (accepted[0] + accepted[1] < Limit && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            for (var i = 0; i < 2; i++)
            {
                accepted[i] += await SendAsync(clients[i]);
            }
        }

        Assert.True(accepted[0] + accepted[1] >= Limit, $"only {accepted[0] + accepted[1]} of {Limit} accepted in {clock.Elapsed}");

        // ...then on for a while longer (many of the coordinators' rounds), to see nothing more gets through.
        var more = Stopwatch.StartNew();
        while (more.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            for (var i = 0; i < 2; i++)
            {
                accepted[i] += await SendAsync(clients[i]);
            }
        }

        var total = accepted[0] + accepted[1];
        output.WriteLine($"accepted: a {accepted[0]}, b {accepted[1]}, total {total} (limit {Limit}); the limit reached in {clock.Elapsed}");
        Assert.True(total <= Limit * 1.1, $"{total} accepted for a limit of {Limit} (a {accepted[0]}, b {accepted[1]})");
        Assert.True(accepted[0] > 0 && accepted[1] > 0, $"a {accepted[0]}, b {accepted[1]}");
    }

    [Fact]
    public async Task ProviderBreaker_OpenedByQuorum_OpensOnTheOtherInstance()
    {
        await using var harness = await ServiceHarness.StartAsync(postgres.ConnectionString);
        var openedOnB = new TaskCompletionSource<CircuitStateChange>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Two instances, a quorum of one: the instance that sees the provider fail opens the breaker for both.
        var a = harness.AddInstance(Clustered("a", new Dictionary<string, string?> { ["Cluster:Quorum"] = "1" }));
        var b = harness.AddInstance(
            Clustered("b", new Dictionary<string, string?> { ["Cluster:Quorum"] = "1" }),
            services => services.AddOptions<HttpResilienceOptions>("llm-local").Configure(o => o.OnCircuitOpened = e => openedOnB.TrySetResult(e.Change)));
        using var llmA = a.Services.GetRequiredService<IHttpClientFactory>().CreateClient("llm-local");
        using var llmB = b.Services.GetRequiredService<IHttpClientFactory>().CreateClient("llm-local");
        Assert.Equal(HttpStatusCode.OK, await GenerateAsync(llmA));
        Assert.Equal(HttpStatusCode.OK, await GenerateAsync(llmB));
        var breakerB = b.Services.GetRequiredService<CircuitBreakerRegistry>().GetHttpCircuitBreaker("llm-local", harness.Providers.BaseAddress)!;

        await harness.Providers.SetFaultAsync("local", """{"outage":true}""");
        for (var i = 0; i < 3 && a.Services.GetRequiredService<CircuitBreakerRegistry>().GetHttpCircuitBreaker("llm-local", harness.Providers.BaseAddress)!.State == CircuitState.Closed; i++)
        {
            await GenerateAsync(llmA);
        }

        var change = await openedOnB.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(CircuitTransitionReason.Cluster, change.Reason);
        Assert.Equal(CircuitState.Open, breakerB.State);
    }

    [Fact]
    public async Task StatusData_Clustered_ShowsEachInstanceAndTheSharedState()
    {
        await using var harness = await ServiceHarness.StartAsync(postgres.ConnectionString);
        // The test reads the page until the state is in: more often than an operator's page would.
        var pageReads = new Dictionary<string, string?> { ["RateLimiting:StatusPermitsPerWindow"] = "100000" };
        var a = harness.AddInstance(Clustered("a", pageReads));
        var b = harness.AddInstance(Clustered("b", pageReads));
        using var llmA = a.Services.GetRequiredService<IHttpClientFactory>().CreateClient("llm-local");
        Assert.Equal(HttpStatusCode.OK, await GenerateAsync(llmA));
        using var writer = a.CreateWriter();
        Assert.Equal(1, await SendAsync(writer));
        using var reader = a.CreateClient();

        // Until b's first heartbeat and a's first rounds are in the store (each page read is cached for a second).
        JsonElement cluster = default;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            using var response = await reader.GetAsync(new Uri("/status/data", UriKind.Relative));
            cluster = (await Json.ReadAsync(response)).GetProperty("cluster");
            if (cluster.GetProperty("instances").GetArrayLength() == 2 && cluster.GetProperty("limits").EnumerateArray().Any(x => x.TryGetProperty("leasedInWindow", out _)))
            {
                break;
            }
        }

        output.WriteLine(cluster.ToString());
        Assert.Equal("a", cluster.GetProperty("instanceId").GetString());
        Assert.True(cluster.GetProperty("connected").GetBoolean());
        Assert.Equal(["a", "b"], cluster.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.All(cluster.GetProperty("instances").EnumerateArray(), i => Assert.InRange(
            DateTimeOffset.UtcNow - i.GetProperty("lastHeartbeat").GetDateTimeOffset(), TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(5)));
        var breaker = Assert.Single(cluster.GetProperty("breakers").EnumerateArray());
        Assert.Equal("llm-local", breaker.GetProperty("name").GetString());
        Assert.Equal("closed", breaker.GetProperty("localState").GetString());
        Assert.Equal("closed", breaker.GetProperty("clusterState").GetString());
        var limit = Assert.Single(cluster.GetProperty("limits").EnumerateArray());
        Assert.StartsWith("api|key:", limit.GetProperty("key").GetString(), StringComparison.Ordinal);
        Assert.True(limit.GetProperty("leasedInWindow").GetInt64() >= 1);
        Assert.Equal(1, limit.GetProperty("granted").GetInt64());
    }

    /// <summary>The cluster's settings for a test: fast rounds so the test takes seconds.</summary>
    internal static Dictionary<string, string?> Clustered(string instance, IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Executor:Workers"] = "0",
            ["Cluster:Enabled"] = "true",
            ["Cluster:InstanceId"] = instance,
            ["Cluster:SyncInterval"] = "00:00:00.100",
            ["Cluster:LeaseTime"] = "00:00:01",
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    private static async Task<int> SendAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative));
        if (response.StatusCode == HttpStatusCode.OK)
        {
            return 1;
        }

        await Problem.AssertAsync(response, HttpStatusCode.TooManyRequests, "ERR_RATE_LIMITED");
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is missing");
        return 0;
    }

    private static async Task<HttpStatusCode> GenerateAsync(HttpClient llm)
    {
        using var content = new StringContent("""{"prompt":"cluster"}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await llm.PostAsync(new Uri("generate", UriKind.Relative), content);
        return response.StatusCode;
    }

    /// <summary>A window (the cluster's are aligned on the Unix epoch) with more than a minute left, so the test runs inside one.</summary>
    private static TimeSpan WindowWithRoom()
    {
        for (var minutes = 60; ; minutes--)
        {
            var ms = (long)TimeSpan.FromMinutes(minutes).TotalMilliseconds;
            if (ms - (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % ms) > 60_000)
            {
                return TimeSpan.FromMinutes(minutes);
            }
        }
    }
}
