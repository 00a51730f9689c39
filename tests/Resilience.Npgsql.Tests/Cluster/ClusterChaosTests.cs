using Resilience.CircuitBreaking;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>
/// Bounded chaos scenarios of the scale-out on a real PostgreSQL and a provider on loopback: three instances in one process under
/// steady load, cluster-wide breakers against the per-instance ones as the baseline in the same run.
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class ClusterChaosTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan Break = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Outage = TimeSpan.FromMilliseconds(2000);
    private static readonly TimeSpan PartialOutage = TimeSpan.FromMilliseconds(1000);

    [Fact]
    public async Task DeadProvider_ThreeInstances_OneProbePerBreakForTheCluster()
    {
        await using var provider = LoopbackUpstream.Start(healthy: false);

        var openings = new int[3];
        var local = new[] { LocalBreaker(() => Interlocked.Increment(ref openings[0])), LocalBreaker(() => Interlocked.Increment(ref openings[1])), LocalBreaker(() => Interlocked.Increment(ref openings[2])) };
        var perInstance = await OutageAsync(local.Select(b => new ClusterCaller(b, provider.Uri)).ToArray(), provider);

        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var instances = new[] { db.Add("a", breakDuration: Break), db.Add("b", breakDuration: Break), db.Add("c", breakDuration: Break) };
        foreach (var instance in instances)
        {
            await instance.RoundAsync();
        }

        foreach (var instance in instances)
        {
            instance.Coordinator.Start();
        }

        var queries = instances.Select(i => i.Coordinator.StoreQueries).ToArray();
        var notifications = instances.Select(i => i.Coordinator.Notifications).ToArray();
        var cluster = await OutageAsync(instances.Select(i => new ClusterCaller(i.Breaker, provider.Uri)).ToArray(), provider);
        var perSecond = Outage.TotalSeconds * instances.Length;
        var queriesPerSecond = instances.Select((i, n) => i.Coordinator.StoreQueries - queries[n]).Sum() / perSecond;
        var notificationsPerSecond = instances.Select((i, n) => i.Coordinator.Notifications - notifications[n]).Sum() / perSecond;
        var clusterBreaks = await db.ScalarAsync("SELECT epoch FROM resilience_cluster_breaker");

        // Breaks that ended (each opening but the last): the cluster's, and per instance the average of each instance's own.
        var perInstanceBreaks = openings.Sum(o => o - 1) / 3.0;
        var clusterEnded = clusterBreaks - 1;
        output.WriteLine("| dead provider, 3 instances, 10 ms per instance | per-instance breakers | cluster-wide breakers |");
        output.WriteLine("|---|---|---|");
        output.WriteLine($"| requests reaching it before every instance refuses | {perInstance.UntilAllRefuse} ({perInstance.UntilAllRefuse / 3.0:F1} per instance) | {cluster.UntilAllRefuse} |");
        output.WriteLine($"| requests reaching it in {Outage.TotalSeconds} s | {perInstance.Total} | {cluster.Total} |");
        output.WriteLine($"| probes / breaks ended = probes per break | {perInstance.Probes} / {perInstanceBreaks:F1} = {perInstance.Probes / perInstanceBreaks:F1} | {cluster.Probes} / {clusterEnded} = {cluster.Probes / (double)clusterEnded:F1} |");
        output.WriteLine($"(openings per instance: {string.Join(", ", openings)}; cluster openings: {clusterBreaks}; coordination per instance: " +
            $"{queriesPerSecond:F1} store queries/s and {notificationsPerSecond:F1} notifications/s at SyncInterval 50 ms)");

        Assert.True(clusterEnded >= 2, $"{clusterBreaks} cluster openings");
        // One probe per break for the whole cluster (the last break's probe may be under way when the run ends).
        Assert.InRange(cluster.Probes, clusterEnded, clusterEnded + 1);
        Assert.True(perInstance.Probes >= 2 * perInstanceBreaks, $"baseline: {perInstance.Probes} probes for {perInstanceBreaks} breaks");
        Assert.True(cluster.Total <= perInstance.Total, $"cluster {cluster.Total}, per instance {perInstance.Total}");
    }

    [Fact]
    public async Task ProviderUnreachableFromOneInstance_TheOthersKeepServing_NoExtraRefusals()
    {
        await using var provider = LoopbackUpstream.Start(healthy: true);
        var unreachable = LoopbackUpstream.Unreachable();

        var local = new[] { LocalBreaker(null), LocalBreaker(null), LocalBreaker(null) };
        var baseline = new[] { new ClusterCaller(local[0], unreachable), new ClusterCaller(local[1], provider.Uri), new ClusterCaller(local[2], provider.Uri) };
        await ClusterLoad.RunAsync(baseline, PartialOutage);

        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var instances = new[] { db.Add("a", breakDuration: Break), db.Add("b", breakDuration: Break), db.Add("c", breakDuration: Break) };
        foreach (var instance in instances)
        {
            await instance.RoundAsync();
        }

        foreach (var instance in instances)
        {
            instance.Coordinator.Start();
        }

        var callers = new[] { new ClusterCaller(instances[0].Breaker, unreachable), new ClusterCaller(instances[1].Breaker, provider.Uri), new ClusterCaller(instances[2].Breaker, provider.Uri) };
        await ClusterLoad.RunAsync(callers, PartialOutage);

        output.WriteLine($"| provider unreachable from instance a only, {PartialOutage.TotalSeconds} s | per-instance breakers | cluster-wide breakers |");
        output.WriteLine("|---|---|---|");
        output.WriteLine($"| a: sent / refused | {baseline[0].Sent} / {baseline[0].Refused} | {callers[0].Sent} / {callers[0].Refused} |");
        output.WriteLine($"| b and c: served / refused | {baseline[1].Sent + baseline[2].Sent} / {baseline[1].Refused + baseline[2].Refused} | {callers[1].Sent + callers[2].Sent} / {callers[1].Refused + callers[2].Refused} |");

        Assert.True(callers[0].Refused > 0, "a's own breaker never opened");
        Assert.Equal(0, callers[1].Refused + callers[2].Refused);
        Assert.Equal(baseline[1].Refused + baseline[2].Refused, callers[1].Refused + callers[2].Refused);
        Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM resilience_cluster_breaker WHERE open"));
        Assert.All(instances[1..], i => Assert.Equal(CircuitState.Closed, i.Breaker.State));
    }

    private static CircuitBreaker LocalBreaker(Action? opened) => new("provider", new CircuitBreakerOptions
    {
        FailureThreshold = 3,
        BreakDuration = Break,
        ProbeTimeout = TimeSpan.FromSeconds(5),
        OnStateChanged = change =>
        {
            if (change.To == CircuitState.Open)
            {
                opened?.Invoke();
            }
        },
    });

    /// <summary>Steady load on a dead provider for <see cref="Outage"/>: what reached it until every instance had refused a call, in all, and the probes.</summary>
    private static async Task<(long UntilAllRefuse, long Total, int Probes)> OutageAsync(ClusterCaller[] callers, LoopbackUpstream provider)
    {
        var start = provider.Requests;
        var refusing = new HashSet<ClusterCaller>();
        long untilAllRefuse = -1;
        await ClusterLoad.RunAsync(callers, Outage, caller =>
        {
            lock (refusing)
            {
                if (caller.Refused > 0 && refusing.Add(caller) && refusing.Count == callers.Length)
                {
                    untilAllRefuse = provider.Requests - start;
                }
            }
        });

        return (untilAllRefuse, provider.Requests - start, callers.Sum(c => c.Probes));
    }
}
