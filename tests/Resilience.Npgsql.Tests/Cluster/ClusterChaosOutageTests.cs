using Resilience.CircuitBreaking;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>
/// Bounded chaos scenario of the scale-out: the database stops while the provider is healthy, under steady load on three
/// instances. No call waits on coordination (latency against coordination off, at the same time) and the shared state is back
/// within 2 s of the database. A server of its own, since the test stops it.
/// </summary>
public sealed class ClusterChaosOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Load = TimeSpan.FromMilliseconds(500);
    private PostgresServer? _server;

    public async Task InitializeAsync() => _server = await PostgresServer.StartDedicatedAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task DatabaseStopped_ProviderHealthy_NoCallWaitsAndSharedStateBackWithinTwoSeconds()
    {
        var server = _server!;
        await using var provider = LoopbackUpstream.Start(healthy: true);

        // Coordination off: the same load through unshared breakers, beside the cluster's, so both see the same machine.
        var baseline = Enumerable.Range(0, 3).Select(_ => new ClusterCaller(new CircuitBreaker("provider", new CircuitBreakerOptions()), provider.Uri)).ToArray();
        await ClusterLoad.RunAsync(baseline, TimeSpan.FromMilliseconds(300)); // warm-up: the first HTTP calls' connections and JIT
        Array.ForEach(baseline, x => x.Reset());

        var a = new ClusterInstance(server.ConnectionString, "a", "provider", TimeSpan.FromSeconds(30));
        var b = new ClusterInstance(server.ConnectionString, "b", "provider", TimeSpan.FromSeconds(30));
        var c = new ClusterInstance(server.ConnectionString, "c", "provider", TimeSpan.FromSeconds(30));
        await using (a)
        await using (b)
        await using (c)
        {
            var instances = new[] { a, b, c };
            foreach (var instance in instances)
            {
                await instance.RoundAsync();
            }

            foreach (var instance in instances)
            {
                instance.Coordinator.Start();
            }

            // Steady load throughout; the database stops under it, and the load goes on until every instance runs alone.
            var callers = instances.Select(i => new ClusterCaller(i.Breaker, provider.Uri)).ToArray();
            var stopLoad = false;
            var load = ClusterLoad.RunUntilAsync([.. callers, .. baseline], () => Volatile.Read(ref stopLoad));
            await server.PauseAsync();
            var noticed = await ClusterLoad.UntilAsync(() => instances.All(i => !i.Coordinator.IsConnected), TimeSpan.FromSeconds(5), "every instance on local state");
            var stopped = System.Diagnostics.Stopwatch.StartNew();
            await ClusterLoad.UntilAsync(() => stopped.Elapsed >= Load, Load * 2, "the load with the database down"); // a measurement over a fixed time
            Volatile.Write(ref stopLoad, true);
            await load;

            await server.ResumeAsync();
            // Two instances see the provider fail as the database comes back: the shared state must carry their votes to the third.
            a.Trip();
            b.Trip();
            var rejoined = await ClusterLoad.UntilAsync(() => instances.All(i => i.Coordinator.IsConnected && i.Coordinator.LiveInstances == 3), TimeSpan.FromSeconds(5), "every instance re-joined");
            var followed = await ClusterLoad.UntilAsync(() => c.ClusterOpened.IsCompleted, TimeSpan.FromSeconds(5), "the third instance follows the cluster's opening");

            double p50Off = ClusterLoad.Percentile(baseline.SelectMany(x => x.LatenciesMs), 0.5), p99Off = ClusterLoad.Percentile(baseline.SelectMany(x => x.LatenciesMs), 0.99);
            double p50On = ClusterLoad.Percentile(callers.SelectMany(x => x.LatenciesMs), 0.5), p99On = ClusterLoad.Percentile(callers.SelectMany(x => x.LatenciesMs), 0.99);
            var slowestAdmission = callers.Max(x => x.SlowestAdmission);
            output.WriteLine("| database stopped, provider healthy, 3 instances | coordination off (same time) | cluster-wide |");
            output.WriteLine("|---|---|---|");
            output.WriteLine($"| calls (refused) | {baseline.Sum(x => x.Sent)} ({baseline.Sum(x => x.Refused)}) | {callers.Sum(x => x.Sent)} ({callers.Sum(x => x.Refused)}) |");
            output.WriteLine($"| call latency p50 / p99 | {p50Off:F2} / {p99Off:F2} ms | {p50On:F2} / {p99On:F2} ms |");
            output.WriteLine($"| slowest admission by the breaker | {baseline.Max(x => x.SlowestAdmission).TotalMilliseconds:F3} ms | {slowestAdmission.TotalMilliseconds:F3} ms |");
            output.WriteLine($"every instance on local state {noticed.TotalMilliseconds:F0} ms after the stop; after the restart: re-joined in {rejoined.TotalMilliseconds:F0} ms, " +
                $"the cluster's opening on the third instance in {followed.TotalMilliseconds:F0} ms (after re-joining)");

            Assert.Equal(0, callers.Sum(x => x.Refused));
            Assert.True(slowestAdmission < TimeSpan.FromMilliseconds(20), $"an admission took {slowestAdmission.TotalMilliseconds} ms");
            // Loopback calls on a shared machine: p99 within a few milliseconds of coordination off, never the store's timeout.
            Assert.True(p99On < (2 * p99Off) + 10, $"p99 {p99On} ms against {p99Off} ms with coordination off");
            Assert.True(rejoined + followed < TimeSpan.FromSeconds(2), $"shared state back {(rejoined + followed).TotalMilliseconds} ms after the database");
        }
    }
}
