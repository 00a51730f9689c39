using Microsoft.Extensions.Time.Testing;
using Resilience.Timeouts;

namespace Resilience.Core.Tests.Timeouts;

/// <summary>
/// Timeouts fire while the operation runs, whether it yields or not: the operations here block synchronously
/// (they move fake time forward themselves, as a blocking call would let real time pass) and only then look at their token.
/// </summary>
public sealed class TimeoutArmingTests
{
    private readonly FakeTimeProvider _time = new();

    private static ValueTask<int> BlockThenObserve(FakeTimeProvider time, CancellationToken cancellationToken)
    {
        time.Advance(TimeSpan.FromSeconds(3));
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<int>(42);
    }

    [Fact]
    public async Task TimeoutStrategy_OperationBlocksBeforeFirstAwait_IsCancelledAtTheLimit()
    {
        var strategy = new TimeoutOnly(new TimeoutOptions { Timeout = TimeSpan.FromMilliseconds(200), Name = "db" }, _time);

        var outcome = await strategy.ExecuteOutcomeAsync(static (t, ct) => BlockThenObserve(t, ct), _time, CancellationToken.None);

        var timeout = Assert.IsType<OperationTimeoutException>(outcome.Exception);
        Assert.Equal(TimeoutKind.Attempt, timeout.Kind);
        Assert.IsAssignableFrom<OperationCanceledException>(timeout.InnerException);
    }

    [Fact]
    public async Task TimeoutStrategy_TimedOutOperationThrowsOtherException_ReportedAsTimeoutWithItInside()
    {
        var strategy = new TimeoutOnly(new TimeoutOptions { Timeout = TimeSpan.FromMilliseconds(200) }, _time);
        var closed = new IOException("connection closed by the cancellation");

        var outcome = await strategy.ExecuteOutcomeAsync<(FakeTimeProvider Time, IOException Error), int>(static (s, ct) =>
        {
            s.Time.Advance(TimeSpan.FromSeconds(1));
            return ct.IsCancellationRequested ? ValueTask.FromException<int>(s.Error) : new ValueTask<int>(1);
        }, (_time, closed), CancellationToken.None);

        var timeout = Assert.IsType<OperationTimeoutException>(outcome.Exception);
        Assert.Same(closed, timeout.InnerException);
    }

    [Fact]
    public async Task TimeoutStrategy_ResultBeatsTheLimit_Stands()
    {
        var strategy = new TimeoutOnly(new TimeoutOptions { Timeout = TimeSpan.FromSeconds(5) }, _time);

        var outcome = await strategy.ExecuteOutcomeAsync(static (t, ct) => BlockThenObserve(t, ct), _time, CancellationToken.None);

        Assert.Equal(42, outcome.GetResultOrThrow());
    }

    [Fact]
    public void PipelineExecute_SyncOperationWaitsPastAttemptTimeout_ThrowsAttemptTimeout()
    {
        var pipeline = new ResiliencePipelineBuilder("db") { TimeProvider = _time }
            .AddTotalTimeout(TimeSpan.FromMilliseconds(300))
            .AddAttemptTimeout(TimeSpan.FromMilliseconds(200))
            .Build();

        var ex = Assert.Throws<OperationTimeoutException>(() => pipeline.Execute(static (t, ct) =>
        {
            t.Advance(TimeSpan.FromMilliseconds(250));
            ct.ThrowIfCancellationRequested();
            return 1;
        }, _time));

        Assert.Equal(TimeoutKind.Attempt, ex.Kind);
    }

    [Fact]
    public void PipelineExecute_SyncOperationWaitsPastTotalTimeout_ThrowsTotalTimeout()
    {
        var pipeline = new ResiliencePipelineBuilder("db") { TimeProvider = _time }
            .AddTotalTimeout(TimeSpan.FromMilliseconds(300))
            .Build();

        var ex = Assert.Throws<OperationTimeoutException>(() => pipeline.Execute(static (t, ct) =>
        {
            t.Advance(TimeSpan.FromSeconds(3));
            ct.ThrowIfCancellationRequested();
            return 1;
        }, _time));

        Assert.Equal(TimeoutKind.Total, ex.Kind);
    }

    [Fact]
    public void PipelineExecute_AttemptLimitEndsWithTheTotal_ReportedAsTotal()
    {
        // The fake clock fires timers due at the same instant in no fixed order, so one run could pass by luck: many runs can't.
        for (var run = 0; run < 100; run++)
        {
            var time = new FakeTimeProvider();
            var pipeline = new ResiliencePipelineBuilder("db") { TimeProvider = time }
                .AddTotalTimeout(TimeSpan.FromSeconds(1))
                .AddAttemptTimeout(TimeSpan.FromSeconds(1))
                .Build();

            var ex = Assert.Throws<OperationTimeoutException>(() => pipeline.Execute(static (t, ct) =>
            {
                t.Advance(TimeSpan.FromSeconds(3));
                ct.ThrowIfCancellationRequested();
                return 1;
            }, time));

            Assert.Equal(TimeoutKind.Total, ex.Kind);
        }
    }

    [Fact]
    public async Task PipelineExecuteAsync_SyncOverAsyncPrefix_IsCancelledAtAttemptTimeout()
    {
        var pipeline = new ResiliencePipelineBuilder<int>("api") { TimeProvider = _time }
            .AddAttemptTimeout(TimeSpan.FromMilliseconds(200))
            .Build();

        var ex = await Assert.ThrowsAsync<OperationTimeoutException>(async () =>
            await pipeline.ExecuteAsync(static async (t, ct) =>
            {
                await BlockThenObserve(t, ct);
                await Task.Yield();
                return 1;
            }, _time, CancellationToken.None));

        Assert.Equal(TimeoutKind.Attempt, ex.Kind);
    }

    [Fact]
    public async Task Pipeline_TotalEndsDuringLaterAttempt_ThatAttemptIsCutAtTheTotalAndReportedAsTotal()
    {
        var kinds = new List<TimeoutKind>();
        var pipeline = new ResiliencePipelineBuilder<int>("api") { TimeProvider = _time }
            .AddTotalTimeout(TimeSpan.FromSeconds(3))
            .AddRetry(new Resilience.Retry.RetryOptions<int>
            {
                MaxRetries = 5,
                BaseDelay = TimeSpan.Zero,
                Backoff = Resilience.Retry.RetryBackoff.Constant,
                Jitter = Resilience.Retry.RetryJitter.None,
                OnRetry = a => kinds.Add(((OperationTimeoutException)a.Exception!).Kind),
            })
            .AddAttemptTimeout(TimeSpan.FromSeconds(2))
            .Build();

        using var started = new SemaphoreSlim(0);
        var pending = pipeline.ExecuteOutcomeAsync(static async (s, ct) =>
        {
            s.Release();
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return 1;
        }, started, CancellationToken.None);
        await started.WaitAsync();
        _time.Advance(TimeSpan.FromSeconds(2));
        await started.WaitAsync();
        Assert.False(pending.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        var outcome = await pending;

        Assert.Equal([TimeoutKind.Attempt], kinds);
        var timeout = Assert.IsType<OperationTimeoutException>(outcome.Exception);
        Assert.Equal(TimeoutKind.Total, timeout.Kind);
        Assert.Equal(TimeSpan.FromSeconds(3), timeout.Timeout);
    }
}
