using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.Timeouts;

namespace Resilience.Core.Tests.Timeouts;

public sealed class TimeoutStrategyTests
{
    private readonly FakeTimeProvider _time = new();

    private TimeoutOnly Strategy(TimeoutKind kind = TimeoutKind.Attempt) =>
        new(new TimeoutOptions { Timeout = TimeSpan.FromSeconds(5), Kind = kind, Name = "db" }, _time);

    private static async ValueTask<int> WaitForeverAsync(TaskCompletionSource<CancellationToken> started, CancellationToken ct)
    {
        started.SetResult(ct);
        await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        return 1;
    }

    [Theory]
    [InlineData(TimeoutKind.Attempt, "attempt")]
    [InlineData(TimeoutKind.Total, "total")]
    public async Task ExecuteAsync_TimeoutElapses_ThrowsOperationTimeoutExceptionNamingIt(TimeoutKind kind, string text)
    {
        var strategy = Strategy(kind);
        var started = new TaskCompletionSource<CancellationToken>();

        var task = strategy.ExecuteAsync(static (s, ct) => WaitForeverAsync(s, ct), started, CancellationToken.None).AsTask();
        await started.Task;
        _time.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.False(task.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        var ex = await Assert.ThrowsAsync<OperationTimeoutException>(() => task);
        Assert.Equal(kind, ex.Kind);
        Assert.Equal(TimeSpan.FromSeconds(5), ex.Timeout);
        Assert.Equal("db", ex.StrategyName);
        Assert.Contains($"{text} timeout of 00:00:05", ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<OperationCanceledException>(ex.InnerException);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancels_ThrowsOperationCanceledNotTimeout()
    {
        var strategy = Strategy();
        var started = new TaskCompletionSource<CancellationToken>();
        using var cts = new CancellationTokenSource();

        var task = strategy.ExecuteAsync(static (s, ct) => WaitForeverAsync(s, ct), started, cts.Token).AsTask();
        await started.Task;
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.IsNotType<OperationTimeoutException>(ex);
        Assert.Equal(0, strategy.Pool.Count);
    }

    [Fact]
    public async Task ExecuteOutcomeAsync_AlreadyCancelledCaller_ReturnsCanceledOutcomeWithoutRunning()
    {
        var strategy = Strategy();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        bool ran = false;

        var outcome = await strategy.ExecuteOutcomeAsync((_, _) =>
        {
            ran = true;
            return new ValueTask<int>(1);
        }, 0, cts.Token);

        Assert.False(ran);
        Assert.IsAssignableFrom<OperationCanceledException>(outcome.Exception);
    }

    [Fact]
    public async Task ExecuteAsync_CompletesInTime_ReusesPooledSource()
    {
        var strategy = new TimeoutOnly(new TimeoutOptions { Timeout = TimeSpan.FromMinutes(5) }, TimeProvider.System);
        CancellationToken first = default;
        await strategy.ExecuteAsync((_, ct) =>
        {
            first = ct;
            return new ValueTask<int>(1);
        }, 0, CancellationToken.None);
        Assert.Equal(1, strategy.Pool.Count);

        CancellationToken second = default;
        await strategy.ExecuteAsync((_, ct) =>
        {
            second = ct;
            return new ValueTask<int>(2);
        }, 0, CancellationToken.None);

        Assert.Equal(first, second);
        Assert.False(second.IsCancellationRequested);
        Assert.Equal(1, strategy.Pool.Count);
    }

    [Fact]
    public async Task ExecuteAsync_AfterTimeout_CancelledSourceIsNotReturnedToPool()
    {
        var strategy = Strategy();
        var started = new TaskCompletionSource<CancellationToken>();
        var task = strategy.ExecuteAsync(static (s, ct) => WaitForeverAsync(s, ct), started, CancellationToken.None).AsTask();
        var timedOutToken = await started.Task;
        _time.Advance(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<OperationTimeoutException>(() => task);

        Assert.Equal(0, strategy.Pool.Count);
        CancellationToken next = default;
        await strategy.ExecuteAsync((_, ct) =>
        {
            next = ct;
            return new ValueTask<int>(1);
        }, 0, CancellationToken.None);
        Assert.NotEqual(timedOutToken, next);
        Assert.False(next.IsCancellationRequested);
    }

    [Fact]
    public async Task ExecuteAsync_TimerOfReusedSourceIsRearmed()
    {
        var strategy = Strategy();
        await strategy.ExecuteAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(10));

        var started = new TaskCompletionSource<CancellationToken>();
        var task = strategy.ExecuteAsync(static (s, ct) => WaitForeverAsync(s, ct), started, CancellationToken.None).AsTask();
        await started.Task;
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(task.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<OperationTimeoutException>(() => task);
    }

    [Fact]
    public void Pool_ReturnCancelledSource_DisposesInsteadOfPooling()
    {
        var pool = new CancellationTokenSourcePool(TimeProvider.System, capacity: 2);
        var cts = pool.Rent();
        cts.Cancel();

        Assert.False(pool.Return(cts));
        Assert.Equal(0, pool.Count);
        Assert.Throws<ObjectDisposedException>(() => cts.CancelAfter(1));
    }

    [Fact]
    public void Pool_RentAfterReturn_GivesSameInstance_AndOverflowIsDisposed()
    {
        // One slot, and the thread's own source: the third return overflows.
        var pool = new CancellationTokenSourcePool(TimeProvider.System, capacity: 1);
        var a = pool.Rent();
        a.CancelAfter(TimeSpan.FromMinutes(5));
        var b = pool.Rent();
        var c = pool.Rent();
        Assert.NotSame(a, b);
        Assert.NotSame(b, c);

        Assert.True(pool.Return(a));
        Assert.True(pool.Return(b));
        Assert.False(pool.Return(c));
        Assert.Throws<ObjectDisposedException>(() => c.CancelAfter(1));
        Assert.Same(a, pool.Rent());
        Assert.Same(b, pool.Rent());
    }

    [Fact]
    public void Pool_FakeTimeProvider_CreatesFreshSourcesOnFakeTime()
    {
        var pool = new CancellationTokenSourcePool(_time, capacity: 2);
        var a = pool.Rent();
        a.CancelAfter(TimeSpan.FromSeconds(1));

        Assert.False(pool.Return(a));
        var b = pool.Rent();
        Assert.NotSame(a, b);
        b.CancelAfter(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(b.IsCancellationRequested);
    }

    [Fact]
    public void New_ZeroTimeout_ThrowsNamingKey()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => new TimeoutOnly(new TimeoutOptions { Timeout = TimeSpan.Zero }));
        Assert.Contains("Timeout (00:00:00) must be between", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_SyncSuccessWithSystemTime_AllocatesNothing()
    {
        var strategy = new TimeoutOnly(new TimeoutOptions { Timeout = TimeSpan.FromSeconds(30) });
        using var cts = new CancellationTokenSource();
        for (int i = 0; i < 1000; i++)
        {
            await strategy.ExecuteAsync(Operation, i, cts.Token);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            var task = strategy.ExecuteAsync(Operation, i, cts.Token);
            Assert.True(task.IsCompletedSuccessfully);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static readonly Func<int, CancellationToken, ValueTask<int>> Operation = static (s, _) => new ValueTask<int>(s);
}
