using Resilience.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Resilience.Telemetry;
using Resilience.Timeouts;

namespace Resilience.Core.Tests.Timeouts;

public sealed class DeadlineTests
{
    private readonly FakeTimeProvider _time = new();

    private sealed class Work
    {
        public readonly TaskCompletionSource<CancellationToken> Started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [Fact]
    public async Task RunAsync_FifteenMinuteLimit_CancelsWorkAndReportsTimeout()
    {
        var work = new Work();
        var task = Deadline.RunAsync(static async (w, ct) =>
        {
            w.Started.SetResult(ct);
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        }, work, TimeSpan.FromMinutes(15), _time, CancellationToken.None);
        var token = await work.Started.Task;

        _time.Advance(TimeSpan.FromMinutes(14) + TimeSpan.FromSeconds(59));
        Assert.False(token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<OperationTimeoutException>(() => task);
        Assert.True(token.IsCancellationRequested);
        Assert.Equal(TimeoutKind.Deadline, ex.Kind);
        Assert.Equal(TimeSpan.FromMinutes(15), ex.Timeout);
    }

    [Fact]
    public async Task RunAsync_WorkIgnoresCancellation_ReportsItStillRunningAfterGracePeriod()
    {
        var work = new Work();
        var never = new TaskCompletionSource();
        var logger = new CapturingLogger();
        var options = new DeadlineOptions { Limit = TimeSpan.FromMinutes(15), GracePeriod = TimeSpan.FromSeconds(30), Name = "task-42" };

        var task = Deadline.RunAsync<(Work Work, TaskCompletionSource Never)>(static async (s, ct) =>
        {
            s.Work.Started.SetResult(ct);
            await s.Never.Task;
        }, (work, never), options, _time, logger, CancellationToken.None);
        await work.Started.Task;

        _time.Advance(TimeSpan.FromMinutes(15));
        Assert.False(task.IsCompleted);

        // The grace timer starts on the continuation that observed the deadline; step time until it has run out.
        var start = _time.GetUtcNow();
        for (int i = 0; i < 10_000 && !task.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Yield();
        }

        Assert.True(_time.GetUtcNow() - start >= TimeSpan.FromSeconds(30));

        var ex = await Assert.ThrowsAsync<OperationTimeoutException>(() => task);
        Assert.Equal("task-42", ex.StrategyName);
        Assert.Contains(ResilienceEventIds.DeadlineWorkDidNotStop, logger.EventIds);
        Assert.Contains(ResilienceEventIds.DeadlineExceeded, logger.EventIds);
        never.SetResult();
    }

    [Fact]
    public async Task RunAsync_WorkFinishesInTime_ReturnsResult()
    {
        int result = await Deadline.RunAsync(
            static (x, _) => Task.FromResult(x * 2), 21, new DeadlineOptions(), _time, NullLogger.Instance, CancellationToken.None);
        Assert.Equal(42, result);
    }

    [Fact]
    public async Task RunAsync_CallerCancels_ThrowsOperationCanceled()
    {
        var work = new Work();
        using var cts = new CancellationTokenSource();
        var task = Deadline.RunAsync(static async (w, ct) =>
        {
            w.Started.SetResult(ct);
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        }, work, TimeSpan.FromMinutes(15), _time, cts.Token);
        await work.Started.Task;

        await cts.CancelAsync();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.IsNotType<OperationTimeoutException>(ex);
    }

    [Fact]
    public async Task RunAsync_WorkFailsBeforeDeadline_SurfacesItsException()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => Deadline.RunAsync(
            static (_, _) => Task.FromException(new InvalidOperationException()), 0, TimeSpan.FromMinutes(1), _time, CancellationToken.None));
    }
}
