using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Resilience.CircuitBreaking;
using Resilience.Cluster;
using Resilience.Npgsql.Cluster;
using Resilience.Retry;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>What coordination costs the database, and the one-line opt-in through DI.</summary>
[Collection(PostgresTests.Name)]
public sealed class ClusterCostTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task Cost_ThreeInstancesWithABreakerALimitAndABudget_AboutTwoQueriesARoundEach()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var interval = TimeSpan.FromMilliseconds(250);
        var coordinators = new List<ClusterCoordinator>();
        for (var i = 0; i < 3; i++)
        {
            var options = ClusterDatabase.FastOptions("i" + i);
            options.SyncInterval = interval;
            options.LeaseTime = TimeSpan.FromSeconds(2);
            var coordinator = new ClusterCoordinator(new PostgresClusterStore(db.ConnectionString), options);
            coordinator.Share(new CircuitBreaker("provider", new CircuitBreakerOptions()));
            using var limiter = coordinator.CreateRateLimiter("per-key", 1000, TimeSpan.FromSeconds(10));
            coordinator.ShareRetryBudget(new RetryBudget(new RetryBudgetOptions()), "llm");
            await coordinator.RunRoundAsync(CancellationToken.None);
            coordinators.Add(coordinator);
        }

        var before = coordinators.Select(c => c.StoreQueries).ToArray();
        var run = Stopwatch.StartNew();
        coordinators.ForEach(c => c.Start());
        var measure = TimeSpan.FromSeconds(2);
        await Task.Delay(measure); // a measurement over a fixed time, not a wait for a state
        var elapsed = run.Elapsed;
        foreach (var c in coordinators)
        {
            await c.DisposeAsync();
        }

        var rounds = elapsed / interval;
        for (var i = 0; i < 3; i++)
        {
            var queries = coordinators[i].StoreQueries - before[i];
            output.WriteLine($"instance {i}: {queries} queries in {elapsed.TotalSeconds:F2} s = {queries / rounds:F2} per round " +
                $"({queries / rounds:F2}/s at the default 1 s interval), {coordinators[i].Notifications} notifications");
            // A heartbeat and one read of the breakers per round, the quota and budget slices only when they run low; the leave at the end.
            Assert.InRange(queries / rounds, 1.0, 3.0);
        }
    }

    [Fact]
    public async Task AddNpgsqlCluster_BreakerMarkedClusterWide_IsSharedThroughTheRegistry()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var services = new ServiceCollection();
        services.AddNpgsqlCluster(db.ConnectionString, o => o.InstanceId = "di");
        services.AddResilience().AddCircuitBreaker("llm", o => o.ClusterWide = true).AddCircuitBreaker("local");
        await using var provider = services.BuildServiceProvider();

        var registry = provider.GetRequiredService<CircuitBreakerRegistry>();

        Assert.NotNull(registry.GetOrAdd("llm").Cluster);
        Assert.Null(registry.GetOrAdd("local").Cluster);
        Assert.Equal("di", provider.GetRequiredService<ClusterCoordinator>().InstanceId);
    }
}
