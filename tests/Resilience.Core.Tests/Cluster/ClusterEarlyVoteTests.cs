using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Cluster;

namespace Resilience.Core.Tests.Cluster;

/// <summary>
/// Votes before a local opening: an instance whose streak reaches the threshold divided by the quorum votes, so a quorum
/// failing together opens the cluster after about one instance's threshold of failures in all (threshold 4, three live
/// instances, a quorum of two: a vote at 2 failures).
/// </summary>
public sealed class ClusterEarlyVoteTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly List<(ClusterCoordinator Coordinator, CircuitBreaker Breaker)> _instances = [];

    [Fact]
    public async Task Round_QuorumFailingTogetherBelowTheirThresholds_OpensEveryInstance()
    {
        var (a, b, c) = await ThreeAsync();

        Fail(a, 2);
        Fail(b, 2);
        await RoundsAsync();

        Assert.All(_instances, i => Assert.Equal(CircuitState.Open, i.Breaker.State));
        Assert.False(c.TryAcquire(out _));
    }

    [Fact]
    public async Task Round_OneInstanceStreakOthersBlipOnce_OpensNoOther()
    {
        var (a, b, c) = await ThreeAsync();

        // a fails short of its threshold (a local fault in the making); b and c fail once, under the early vote's mark.
        Fail(a, 3);
        Fail(b, 1);
        Fail(c, 1);
        await RoundsAsync();

        Assert.All(_instances, i => Assert.Equal(CircuitState.Closed, i.Breaker.State));
    }

    [Fact]
    public async Task Round_StreakEndedBySuccess_EarlyVoteWithdrawn()
    {
        var (a, b, _) = await ThreeAsync();
        Fail(a, 2);
        await RoundsAsync();
        Assert.True(a.TryAcquire(out var permit));
        permit.Succeeded();
        await RoundsAsync();

        Fail(b, 2);
        await RoundsAsync();

        Assert.All(_instances, i => Assert.Equal(CircuitState.Closed, i.Breaker.State));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (coordinator, _) in _instances)
        {
            await coordinator.DisposeAsync();
        }
    }

    private static void Fail(CircuitBreaker breaker, int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.True(breaker.TryAcquire(out var permit));
            permit.Failed();
        }

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    private async Task<(CircuitBreaker A, CircuitBreaker B, CircuitBreaker C)> ThreeAsync()
    {
        var cluster = new InMemoryCluster(_time);
        for (var i = 0; i < 3; i++)
        {
            var coordinator = new ClusterCoordinator(new InMemoryClusterStore(cluster), new ClusterOptions
            {
                InstanceId = "i" + i,
                SyncInterval = TimeSpan.FromSeconds(1),
                LeaseTime = TimeSpan.FromSeconds(3),
                VoteWindow = TimeSpan.FromSeconds(30),
            }, _time);
            var breaker = new CircuitBreaker("shared", new CircuitBreakerOptions { FailureThreshold = 4, BreakDuration = TimeSpan.FromSeconds(10) }, _time);
            coordinator.Share(breaker);
            _instances.Add((coordinator, breaker));
        }

        await RoundsAsync();
        return (_instances[0].Breaker, _instances[1].Breaker, _instances[2].Breaker);
    }

    /// <summary>Two passes of every instance's round, as their loops would run them (a vote, then the others reading it).</summary>
    private async Task RoundsAsync()
    {
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var (coordinator, _) in _instances)
            {
                await coordinator.RunRoundAsync(CancellationToken.None);
            }
        }
    }
}
