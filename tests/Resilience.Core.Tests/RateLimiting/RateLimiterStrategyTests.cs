using System.Threading.RateLimiting;
using Resilience.RateLimiting;

namespace Resilience.Core.Tests.RateLimiting;

public sealed class RateLimiterStrategyTests
{
    private static ConcurrencyLimiter Limiter(int permits = 1, int queue = 0) =>
        new(new ConcurrencyLimiterOptions { PermitLimit = permits, QueueLimit = queue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst });

    [Fact]
    public async Task ExecuteAsync_Success_ReleasesLease()
    {
        using var limiter = Limiter();
        var strategy = new RateLimiterOnly(limiter, "db");

        Assert.Equal(1, await strategy.ExecuteAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None));
        Assert.Equal(1, limiter.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task ExecuteAsync_Failure_ReleasesLeaseAndSurfacesFailure()
    {
        using var limiter = Limiter();
        var strategy = new RateLimiterOnly(limiter);

        await Assert.ThrowsAsync<InvalidOperationException>(
            () => strategy.ExecuteAsync<int, int>(static (_, _) => throw new InvalidOperationException(), 0, CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<TimeoutException>(
            () => strategy.ExecuteAsync(static async (_, _) =>
            {
                await Task.Yield();
                throw new TimeoutException();
#pragma warning disable CS0162 // The lambda needs a result type.
                return 0;
#pragma warning restore CS0162
            }, 0, CancellationToken.None).AsTask());

        Assert.Equal(1, limiter.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task ExecuteAsync_CancelledWhileRunning_ReleasesLease()
    {
        using var limiter = Limiter();
        var strategy = new RateLimiterOnly(limiter);
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource();

        var task = strategy.ExecuteAsync(async (s, ct) =>
        {
            s.SetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return 0;
        }, started, cts.Token).AsTask();
        await started.Task;
        Assert.Equal(0, limiter.GetStatistics()!.CurrentAvailablePermits);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.Equal(1, limiter.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task ExecuteOutcomeAsync_NoPermit_ReturnsRejectionOutcome()
    {
        using var limiter = Limiter();
        var strategy = new RateLimiterOnly(limiter, "bulkhead");
        var release = new TaskCompletionSource<int>();
        var holder = strategy.ExecuteAsync(static (r, _) => new ValueTask<int>(r.Task), release, CancellationToken.None);

        var outcome = await strategy.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);

        var rejected = Assert.IsType<RateLimiterRejectedException>(outcome.Exception);
        Assert.Equal("bulkhead", rejected.StrategyName);
        Assert.Null(rejected.RetryAfter);
        release.SetResult(5);
        Assert.Equal(5, await holder);
        Assert.Equal(1, limiter.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task ExecuteAsync_LimiterWithRetryAfter_ThrowsRejectionCarryingIt()
    {
        using var limiter = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = 1,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = false,
        });
        var strategy = new RateLimiterOnly(limiter, "api");
        await strategy.ExecuteAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<RateLimiterRejectedException>(
            () => strategy.ExecuteAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None).AsTask());

        Assert.Equal(TimeSpan.FromMinutes(1), ex.RetryAfter);
        Assert.Contains("retry after 00:01:00", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_QueuedCaller_RunsWhenPermitFreed()
    {
        using var limiter = Limiter(permits: 1, queue: 1);
        var strategy = new RateLimiterOnly(limiter);
        var release = new TaskCompletionSource<int>();
        var holder = strategy.ExecuteAsync(static (r, _) => new ValueTask<int>(r.Task), release, CancellationToken.None).AsTask();

        var queued = strategy.ExecuteAsync(static (_, _) => new ValueTask<int>(2), 0, CancellationToken.None).AsTask();
        Assert.False(queued.IsCompleted);
        release.SetResult(1);

        Assert.Equal(1, await holder);
        Assert.Equal(2, await queued);
        Assert.Equal(1, limiter.GetStatistics()!.CurrentAvailablePermits);
    }

    [Fact]
    public async Task ExecuteAsync_CancelledWhileQueued_ThrowsOperationCanceled()
    {
        using var limiter = Limiter(permits: 1, queue: 1);
        var strategy = new RateLimiterOnly(limiter);
        var release = new TaskCompletionSource<int>();
        var holder = strategy.ExecuteAsync(static (r, _) => new ValueTask<int>(r.Task), release, CancellationToken.None).AsTask();
        using var cts = new CancellationTokenSource();

        var queued = strategy.ExecuteAsync(static (_, _) => new ValueTask<int>(2), 0, cts.Token).AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        release.SetResult(1);
        await holder;
        Assert.Equal(1, limiter.GetStatistics()!.CurrentAvailablePermits);
    }
}
