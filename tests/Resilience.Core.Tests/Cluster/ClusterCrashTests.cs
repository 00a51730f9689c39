using System.Threading.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using Resilience.Cluster;

namespace Resilience.Core.Tests.Cluster;

/// <summary>An instance killed while holding rate-limit permits, on an in-memory store and a fake clock: they come back within the lease time.</summary>
public sealed class ClusterCrashTests : IAsyncDisposable
{
    private const int Limit = 300;
    private static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(3);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly InMemoryCluster _cluster;
    private readonly ClusterCoordinator _a;
    private readonly ClusterCoordinator _b;

    public ClusterCrashTests()
    {
        _cluster = new InMemoryCluster(_time);
        _a = New("a");
        _b = New("b");
    }

    [Fact]
    public async Task Kill_InstanceHoldingPermits_TheyGoBackOnceItsLeaseLapsesNotBefore()
    {
        // An hour's window: the permits can only come back by the lease lapsing, never by the window turning.
        using var limiterA = _a.CreateRateLimiter("per-key", Limit, TimeSpan.FromHours(1));
        using var limiterB = _b.CreateRateLimiter("per-key", Limit, TimeSpan.FromHours(1));
        await _a.RunRoundAsync(CancellationToken.None);
        await _b.RunRoundAsync(CancellationToken.None);
        for (var i = 0; i < 30; i++)
        {
            Assert.True(limiterA.AttemptAcquire().IsAcquired);
        }

        await _a.RunRoundAsync(CancellationToken.None); // a tops up, reporting what it holds unused
        var heldByA = _cluster.Quota.Single(q => q.Key.Instance == "a").Value.Taken - 30;
        Assert.True(heldByA > 0);

        // A is killed: no more rounds, nothing returned. B takes all it can while a's lease runs.
        var acceptedByB = await DrainAsync(limiterB);
        _time.Advance(LeaseTime - TimeSpan.FromSeconds(1));
        acceptedByB += await DrainAsync(limiterB);
        Assert.Equal(Limit - 30 - heldByA, acceptedByB);

        // Past the lease: a is dead, and what it held (not what it used) is b's to take.
        _time.Advance(TimeSpan.FromSeconds(1));
        acceptedByB += await DrainAsync(limiterB);

        Assert.Equal(1, _b.LiveInstances);
        Assert.Equal(Limit - 30, acceptedByB);
    }

    public async ValueTask DisposeAsync() => await _b.DisposeAsync();

    private ClusterCoordinator New(string id) =>
        new(new InMemoryClusterStore(_cluster), new ClusterOptions { InstanceId = id, SyncInterval = TimeSpan.FromSeconds(1), LeaseTime = LeaseTime }, _time);

    /// <summary>B's calls take every permit, its rounds topping up, until a round brings none.</summary>
    private async Task<int> DrainAsync(RateLimiter limiter)
    {
        var accepted = 0;
        for (var round = 0; round < 100; round++)
        {
            var before = accepted;
            while (limiter.AttemptAcquire().IsAcquired)
            {
                accepted++;
            }

            await _b.RunRoundAsync(CancellationToken.None);
            if (accepted == before && round > 0)
            {
                break;
            }
        }

        return accepted;
    }
}
