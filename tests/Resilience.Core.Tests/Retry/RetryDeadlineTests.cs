using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Resilience.Retry;
using Resilience.Telemetry;
using Resilience.Testing;
using Resilience.Timeouts;

namespace Resilience.Core.Tests.Retry;

/// <summary>Retry knows the time left and never starts a delay that ends past it; Retry-After hints have the backoff as floor.</summary>
public sealed class RetryDeadlineTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly CapturingLogger _log = new();

    public void Dispose() => _log.Dispose();

    private sealed class Failing
    {
        public int Calls;

        public ValueTask<int> FailAsync()
        {
            Calls++;
            return ValueTask.FromException<int>(new InvalidOperationException("real failure " + Calls));
        }
    }

    private static RetryOptions<int> Constant(TimeSpan delay, int maxRetries = 5) => new()
    {
        MaxRetries = maxRetries,
        BaseDelay = delay,
        MaxDelay = TimeSpan.FromMinutes(1),
        Backoff = RetryBackoff.Constant,
        Jitter = RetryJitter.None,
    };

    [Fact]
    public async Task Pipeline_DelayLongerThanTotalTimeout_SurfacesRealFailureAtOnceWithReason()
    {
        var stopped = new List<RetryStoppedArguments<int>>();
        var options = Constant(TimeSpan.FromSeconds(5));
        options.OnRetriesStopped = stopped.Add;
        using var loggerFactory = new LoggerFactory([_log]);
        var pipeline = new ResiliencePipelineBuilder<int>("api") { TimeProvider = _time, LoggerFactory = loggerFactory }
            .AddTotalTimeout(TimeSpan.FromSeconds(1))
            .AddRetry(options)
            .Build();
        var failing = new Failing();

        var pending = pipeline.ExecuteOutcomeAsync(static (f, _) => f.FailAsync(), failing, CancellationToken.None);

        // No time passes: the retry did not start a delay it could not finish.
        Assert.True(pending.IsCompleted);
        var outcome = await pending;
        var real = Assert.IsType<InvalidOperationException>(outcome.Exception);
        Assert.Equal("real failure 1", real.Message);
        Assert.Equal(1, failing.Calls);
        var stop = Assert.Single(stopped);
        Assert.Equal(RetryStopReason.DeadlineReached, stop.Reason);
        Assert.Equal(TimeSpan.FromSeconds(5), stop.Delay);
        Assert.Equal(TimeSpan.FromSeconds(1), stop.TimeLeft);
        Assert.Equal(1, pipeline.RetryStatistics!.GetSnapshot().DeadlineStops);
        Assert.Contains(ResilienceEventIds.RetriesStoppedByDeadline, _log.EventIds);
    }

    [Fact]
    public async Task Pipeline_RetryAfterHintPastTotalTimeout_SurfacesRealFailureAtOnce()
    {
        var stopped = new List<RetryStoppedArguments<int>>();
        var options = Constant(TimeSpan.FromMilliseconds(10));
        options.RetryAfter = static _ => TimeSpan.FromSeconds(10);
        options.OnRetriesStopped = stopped.Add;
        var pipeline = new ResiliencePipelineBuilder<int>("api") { TimeProvider = _time }
            .AddTotalTimeout(TimeSpan.FromSeconds(2))
            .AddRetry(options)
            .Build();
        var failing = new Failing();

        var outcome = await pipeline.ExecuteOutcomeAsync(static (f, _) => f.FailAsync(), failing, CancellationToken.None);

        Assert.IsType<InvalidOperationException>(outcome.Exception);
        Assert.Equal(1, failing.Calls);
        var stop = Assert.Single(stopped);
        Assert.Equal(RetryStopReason.DeadlineReached, stop.Reason);
        Assert.Equal(TimeSpan.FromSeconds(10), stop.RetryAfter);
    }

    [Fact]
    public async Task Pipeline_DelaysFitInTotalTimeout_RetriesThenStopsBeforeTheDeadline()
    {
        var seen = new List<TimeSpan>();
        var options = Constant(TimeSpan.FromSeconds(1));
        options.OnRetry = a => seen.Add(a.TimeLeft);
        var pipeline = new ResiliencePipelineBuilder<int>("api") { TimeProvider = _time }
            .AddTotalTimeout(TimeSpan.FromMilliseconds(2500))
            .AddRetry(options)
            .Build();
        var failing = new Failing();

        var outcome = await TimeDriver.RunAsync(
            _time, pipeline.ExecuteOutcomeAsync(static (f, _) => f.FailAsync(), failing, CancellationToken.None), TimeSpan.FromMilliseconds(100));

        // Retries at 1 s and 2 s; a third delay (ending at 3 s) would pass the 2.5 s total, so the last real failure surfaces.
        Assert.Equal("real failure 3", Assert.IsType<InvalidOperationException>(outcome.Exception).Message);
        Assert.Equal(3, failing.Calls);
        Assert.Equal([TimeSpan.FromMilliseconds(2500), TimeSpan.FromMilliseconds(1500)], seen);
    }

    [Fact]
    public async Task RetryStrategy_InsideDeadline_StopsBeforeDelayPastIt()
    {
        var strategy = new RetryOnly(Constant(TimeSpan.FromSeconds(5)), _time);
        var failing = new Failing();

        var run = Deadline.RunAsync(
            static async (s, ct) => await s.Strategy.ExecuteAsync(static (f, _) => f.FailAsync(), s.Failing, ct),
            (Strategy: strategy, Failing: failing),
            TimeSpan.FromSeconds(1),
            _time,
            CancellationToken.None);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => run);
        Assert.Equal("real failure 1", ex.Message);
        Assert.Equal(1, strategy.Statistics.GetSnapshot().DeadlineStops);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5000)]
    public async Task RetryAfter_ZeroOrNegativeHint_ComputedBackoffIsTheFloorAndLogged(int hintMs)
    {
        var delays = new List<TimeSpan>();
        var options = Constant(TimeSpan.FromMilliseconds(300), maxRetries: 2);
        options.RetryAfter = _ => TimeSpan.FromMilliseconds(hintMs);
        options.OnRetry = a => delays.Add(a.Delay);
        var strategy = new RetryOnly(options, _time, _log);
        var failing = new Failing();

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await TimeDriver.RunAsync(_time, strategy.ExecuteAsync(static (f, _) => f.FailAsync(), failing), TimeSpan.FromMilliseconds(50)));

        Assert.Equal([TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300)], delays);
        Assert.Equal(2, _log.Entries.Count(e => e.EventId.Id == ResilienceEventIds.RetryAfterAdjusted && e.Message.Contains("below-backoff", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RetryAfter_AbsurdHint_IsCappedAndLogged()
    {
        var delays = new List<TimeSpan>();
        var options = Constant(TimeSpan.FromMilliseconds(300), maxRetries: 1);
        options.MaxDelay = TimeSpan.FromSeconds(2);
        options.RetryAfter = static _ => TimeSpan.MaxValue;
        options.OnRetry = a => delays.Add(a.Delay);
        var strategy = new RetryOnly(options, _time, _log);

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await TimeDriver.RunAsync(_time, strategy.ExecuteAsync(static (f, _) => f.FailAsync(), new Failing()), TimeSpan.FromMilliseconds(100)));

        Assert.Equal([TimeSpan.FromSeconds(2)], delays);
        var entry = Assert.Single(_log.Entries, e => e.EventId.Id == ResilienceEventIds.RetryAfterAdjusted);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Contains("above-max-delay", entry.Message, StringComparison.Ordinal);
    }
}
