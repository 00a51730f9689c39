using System.Diagnostics;
using Resilience.CircuitBreaking;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>Cluster-wide breakers on a real PostgreSQL: three instances in one process, each with its own store and connections.</summary>
[Collection(PostgresTests.Name)]
public sealed class ClusterBreakerTests(PostgresFixture postgres)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Quorum_TwoOfThreeSawFailures_OpensTheThirdWithinASync()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var a = db.Add("a");
        var b = db.Add("b");
        var c = db.Add("c");
        foreach (var i in new[] { a, b, c })
        {
            await i.RoundAsync();
            i.Coordinator.Start();
        }

        a.Trip();
        b.Trip();

        var change = await c.Opened.WaitAsync(Bound);
        Assert.Equal(CircuitTransitionReason.Cluster, change.Reason);
        Assert.False(c.Breaker.TryAcquire(out _));
        // The opening was announced: on a loaded machine c's own round may apply it before the notification lands.
        await ClusterLoad.UntilAsync(() => c.Coordinator.Notifications > 0, Bound, "c received the opening's notification");
    }

    [Fact]
    public async Task Quorum_OneInstanceFails_OpensNoOther()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var instances = new[] { db.Add("a"), db.Add("b"), db.Add("c") };
        await RoundsAsync(instances);

        instances[0].Trip();
        await RoundsAsync(instances);
        await RoundsAsync(instances);

        Assert.Equal(CircuitState.Open, instances[0].Breaker.State);
        Assert.Equal(CircuitState.Closed, instances[1].Breaker.State);
        Assert.Equal(CircuitState.Closed, instances[2].Breaker.State);
        Assert.Equal(1, await db.ScalarAsync("SELECT count(*) FROM resilience_cluster_vote"));
        Assert.Equal(0, await db.ScalarAsync("SELECT count(*) FROM resilience_cluster_breaker WHERE open"));
    }

    [Fact]
    public async Task HalfOpen_ThreeInstancesUnderLoad_OneProbePerBreakAndItsResultRulesAll()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var instances = new[]
        {
            db.Add("a", breakDuration: TimeSpan.FromMilliseconds(300)),
            db.Add("b", breakDuration: TimeSpan.FromMilliseconds(300)),
            db.Add("c", breakDuration: TimeSpan.FromMilliseconds(300)),
        };
        foreach (var i in instances)
        {
            await i.RoundAsync();
            i.Coordinator.Start();
        }

        instances[0].Trip();
        instances[1].Trip();
        // Every instance follows the cluster's opening before calls resume (until then a and b hold their own openings).
        await Task.WhenAll(instances.Select(i => i.ClusterOpened)).WaitAsync(Bound);

        // Steady load on every instance; the dependency stays dead for three probes, then answers.
        var probes = 0;
        var deadline = Stopwatch.StartNew();
        while (instances.Any(i => i.Breaker.State != CircuitState.Closed) && deadline.Elapsed < Bound)
        {
            foreach (var instance in instances)
            {
                // A call admitted by a breaker that was not closed is a probe; calls of a closed one are the traffic after.
                var wasClosed = instance.Breaker.State == CircuitState.Closed;
                if (instance.Breaker.TryAcquire(out var permit))
                {
                    if (wasClosed)
                    {
                        permit.Succeeded();
                    }
                    else if (++probes <= 3)
                    {
                        permit.Failed();
                    }
                    else
                    {
                        permit.Succeeded();
                    }
                }
            }

            await Task.Yield();
        }

        await Task.WhenAll(instances.Select(i => i.Closed)).WaitAsync(Bound);
        // Four breaks: the quorum's opening and three failed probes' re-openings; one probe each.
        var epoch = await db.ScalarAsync("SELECT epoch FROM resilience_cluster_breaker");
        Assert.True(probes == 4 && epoch == 4, $"{probes} probes, {epoch} openings");
    }

    [Fact]
    public async Task Votes_InstanceKilled_ItsVoteLapsesWithItsLease()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var instances = new[] { db.Add("a"), db.Add("b"), db.Add("c") };
        await RoundsAsync(instances);
        instances[0].Trip();
        await RoundsAsync(instances);

        instances[0].Kill();
        var survivors = instances[1..];
        var lease = ClusterDatabase.FastOptions("x").LeaseTime;
        var killed = Stopwatch.StartNew();
        while (killed.Elapsed < lease + TimeSpan.FromMilliseconds(100))
        {
            // The survivors keep their heartbeats while the killed instance's lapses (this is the lease passing, not a wait for state).
            await RoundsAsync(survivors);
        }

        survivors[0].Trip();
        await RoundsAsync(survivors);

        Assert.Equal(2, survivors[0].Coordinator.LiveInstances);
        Assert.Equal(CircuitState.Closed, survivors[1].Breaker.State);
    }

    private static async Task RoundsAsync(IEnumerable<ClusterInstance> instances)
    {
        foreach (var instance in instances)
        {
            await instance.RoundAsync();
        }
    }
}
