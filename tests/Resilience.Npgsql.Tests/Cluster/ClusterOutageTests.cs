using System.Diagnostics;
using Resilience.CircuitBreaking;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>The store goes away: every instance runs on its own breaker at once, no call waits, and the cluster re-forms when it returns.</summary>
public sealed class ClusterOutageTests : IAsyncLifetime
{
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
    public async Task Store_Down_LocalBreakersWithoutDelayThenRejoins()
    {
        var server = _server!;
        var a = new ClusterInstance(server.ConnectionString, "a", "provider", TimeSpan.FromSeconds(30));
        var b = new ClusterInstance(server.ConnectionString, "b", "provider", TimeSpan.FromSeconds(30));
        await using (a)
        await using (b)
        {
            await a.RoundAsync();
            await b.RoundAsync();
            a.Coordinator.Start();
            b.Coordinator.Start();

            await server.PauseAsync();

            // Calls while the loops fail against the stopped server: none waits on the store.
            var slowest = TimeSpan.Zero;
            var run = Stopwatch.StartNew();
            while (run.Elapsed < TimeSpan.FromMilliseconds(500) || a.Coordinator.IsConnected || b.Coordinator.IsConnected)
            {
                Assert.True(run.Elapsed < TimeSpan.FromSeconds(5), "the coordinators did not notice the store was down");
                var started = Stopwatch.GetTimestamp();
                Assert.True(a.Breaker.TryAcquire(out var permit));
                permit.Succeeded();
                var took = Stopwatch.GetElapsedTime(started);
                slowest = took > slowest ? took : slowest;
            }

            // A call that waited on the store would take its connect attempt (the store's timeout is seconds); 250 ms leaves room
            // for a GC pause or a descheduled thread on a loaded 2-core machine (50 ms failed once at 50.67 ms).
            Assert.True(slowest < TimeSpan.FromMilliseconds(250), $"slowest call {slowest}");

            // Alone, a local fault opens the local breaker; the other instance is untouched.
            a.Trip();
            Assert.Equal(CircuitState.Closed, b.Breaker.State);

            await server.ResumeAsync();
            b.Trip();

            // Both votes count once the store is back (a's, cast while it was down, was kept): the cluster opens on both.
            await Task.WhenAll(a.ClusterOpened, b.ClusterOpened).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(a.Coordinator.IsConnected && b.Coordinator.IsConnected);
        }
    }
}
