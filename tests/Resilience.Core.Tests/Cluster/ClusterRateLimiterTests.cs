using Microsoft.Extensions.Time.Testing;
using Resilience.Cluster;

namespace Resilience.Core.Tests.Cluster;

/// <summary>A cluster-wide rate limit's local permits, on an in-memory store and a fake clock.</summary>
public sealed class ClusterRateLimiterTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly ClusterCoordinator _coordinator;

    public ClusterRateLimiterTests() =>
        _coordinator = new(new InMemoryClusterStore(new InMemoryCluster(_time)), new ClusterOptions { InstanceId = "a", SyncInterval = TimeSpan.FromSeconds(1) }, _time);

    [Fact]
    public async Task SliceOfOnePermit_TakingTheLast_AsksForTheNextBeforeACallIsRefused()
    {
        // 8 a window for one instance: slices of 8 / (1 × 8) = 1 permit.
        using var limiter = _coordinator.CreateRateLimiter("per-key", permitLimit: 8, TimeSpan.FromHours(1));
        await _coordinator.RunRoundAsync(CancellationToken.None);
        Assert.False(_coordinator.WakeRequested);

        Assert.True(limiter.AttemptAcquire().IsAcquired);

        Assert.True(_coordinator.WakeRequested);
        await _coordinator.RunRoundAsync(CancellationToken.None);
        Assert.True(limiter.AttemptAcquire().IsAcquired);
    }

    [Fact]
    public async Task SliceOfSeveralPermits_NoRoundAskedWhileMoreThanHalfAreLeft()
    {
        // 80 a window: slices of 10, watermark 5.
        using var limiter = _coordinator.CreateRateLimiter("per-key", permitLimit: 80, TimeSpan.FromHours(1));
        await _coordinator.RunRoundAsync(CancellationToken.None);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(limiter.AttemptAcquire().IsAcquired);
        }

        Assert.False(_coordinator.WakeRequested);
        Assert.True(limiter.AttemptAcquire().IsAcquired);
        Assert.True(_coordinator.WakeRequested);
    }

    public async ValueTask DisposeAsync() => await _coordinator.DisposeAsync();
}
