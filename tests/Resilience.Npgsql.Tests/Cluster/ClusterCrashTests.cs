using System.Diagnostics;
using Resilience.CircuitBreaking;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>An instance killed (never disposed, its connections closed): what it held lapses with its heartbeat.</summary>
[Collection(PostgresTests.Name)]
public sealed class ClusterCrashTests(PostgresFixture postgres)
{
    private const int Limit = 300;

    [Fact]
    public async Task Kill_InstanceHoldingQuotaAndAVote_BothLapseWithinTheLeaseTime()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var a = db.Add("a");
        var b = db.Add("b");
        // An hour's window: the permits a held can only come back by its lease lapsing, never by the window turning.
        var window = TimeSpan.FromHours(1);
        using var limiterA = a.Coordinator.CreateRateLimiter("per-key", Limit, window);
        using var limiterB = b.Coordinator.CreateRateLimiter("per-key", Limit, window);
        await a.RoundAsync();
        await b.RoundAsync();

        // A uses 30 permits (its loop topping up once it runs low) and votes its breaker open; then it is killed.
        var usedByA = 0;
        for (var i = 0; i < 30; i++)
        {
            Assert.True(limiterA.AttemptAcquire().IsAcquired);
            usedByA++;
        }

        a.Trip();
        await a.RoundAsync();
        var heldByA = await db.ScalarAsync("SELECT taken FROM resilience_cluster_quota_lease WHERE instance = 'a'") - usedByA;
        Assert.True(heldByA > 0, $"a holds {heldByA}");
        Assert.Equal(1, await db.ScalarAsync("SELECT count(*) FROM resilience_cluster_vote"));
        await a.KillAsync();
        var killed = Stopwatch.StartNew();

        // B takes every permit it can, its loop running, until it has all a did not use (or a bound passes).
        var acceptedByB = 0;
        var recovered = TimeSpan.Zero;
        while (killed.Elapsed < TimeSpan.FromSeconds(5))
        {
            while (limiterB.AttemptAcquire().IsAcquired)
            {
                acceptedByB++;
            }

            if (usedByA + acceptedByB >= Limit)
            {
                recovered = killed.Elapsed;
                break;
            }

            await b.RoundAsync();
        }

        var lease = ClusterDatabase.FastOptions("x").LeaseTime;
        Assert.Equal(Limit, usedByA + acceptedByB); // a's unused permits went to b, and no more than the limit was granted
        Assert.True(recovered < lease + TimeSpan.FromSeconds(1), $"a's {heldByA} permits came back {recovered.TotalMilliseconds:F0} ms after the kill (lease {lease.TotalMilliseconds} ms)");
        // A's vote lapsed with it: alone, b would reach a quorum of one if it still counted.
        Assert.Equal(1, b.Coordinator.LiveInstances);
        Assert.Equal(CircuitState.Closed, b.Breaker.State);
    }
}
