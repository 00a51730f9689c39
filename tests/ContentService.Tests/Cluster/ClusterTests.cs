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

    [Fact]
    public async Task ProviderRetryBudget_SpentThroughOneInstance_TheOtherFindsItSpent()
    {
        await using var harness = await ServiceHarness.StartAsync(postgres.ConnectionString);

        // A bucket of 4 tokens with no floor, short delays and a breaker that stays closed: only the budget stops retries.
        var settings = new Dictionary<string, string?>
        {
            ["Resilience:Http:llm:RetryBudget:MaxTokens"] = "4",
            ["Resilience:Http:llm:RetryBudget:MinRetriesPerSecond"] = "0",
            ["Resilience:Http:llm:FailureThreshold"] = "1000",
            ["Resilience:Http:llm:BaseDelay"] = "00:00:00.001",
            ["Resilience:Http:llm:MaxDelay"] = "00:00:00.010",
            ["RateLimiting:StatusPermitsPerWindow"] = "100000",
        };
        var a = harness.AddInstance(Clustered("a", settings));
        var b = harness.AddInstance(Clustered("b", settings));
        using var llmA = a.Services.GetRequiredService<IHttpClientFactory>().CreateClient("llm-local");
        using var llmB = b.Services.GetRequiredService<IHttpClientFactory>().CreateClient("llm-local");
        using var statusA = a.CreateClient();
        using var statusB = b.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await GenerateAsync(llmA));
        Assert.Equal(HttpStatusCode.OK, await GenerateAsync(llmB));
        await harness.Providers.SetFaultAsync("local", """{"outage":true}""");

        // Retries through a until the cluster's bucket is empty (each instance holds a slice of it; a leases the rest).
        JsonElement budgetA = default;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await RetriedGenerateAsync(llmA);
            budgetA = await RetryBudgetAsync(statusA);
            if (budgetA.TryGetProperty("clusterTokens", out var left) && left.ValueKind == JsonValueKind.Number && left.GetDouble() == 0
                && budgetA.GetProperty("localTokens").GetDouble() < 1)
            {
                break;
            }
        }

        output.WriteLine($"a: {budgetA}");
        Assert.Equal(0, budgetA.GetProperty("clusterTokens").GetDouble());

        // b's own bucket would allow all three retries; it holds at most the slice it leased on joining, and the cluster has none.
        var (outcome, attempts) = await RetriedGenerateAsync(llmB);
        var budgetB = await RetryBudgetAsync(statusB);
        output.WriteLine($"b: {outcome} after {attempts} attempts; {budgetB}");
        Assert.Equal(HttpResilienceOutcome.RetryBudgetExhausted, outcome);
        Assert.InRange(attempts, 1, 2);
        Assert.True(budgetB.GetProperty("refused").GetInt64() >= 1, budgetB.ToString());
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

    /// <summary>A generation the handler may retry (as the model router's calls: an Idempotency-Key), and what the handler did.</summary>
    private static async Task<(HttpResilienceOutcome Outcome, int Attempts)> RetriedGenerateAsync(HttpClient llm)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("generate", UriKind.Relative))
        {
            Content = new StringContent("""{"prompt":"cluster"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        using var response = await llm.SendAsync(request);
        return (HttpResilienceResponse.GetOutcome(response), HttpResilienceResponse.GetAttempts(response) ?? 0);
    }

    /// <summary>The 'local' client's shared retry budget on an instance's status data (read through its one-second cache).</summary>
    private static async Task<JsonElement> RetryBudgetAsync(HttpClient status)
    {
        using var response = await status.GetAsync(new Uri("/status/data", UriKind.Relative));
        var budgets = (await Json.ReadAsync(response)).GetProperty("cluster").GetProperty("retryBudgets");
        return budgets.EnumerateArray().Single(x => x.GetProperty("client").GetString() == "llm-local");
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
