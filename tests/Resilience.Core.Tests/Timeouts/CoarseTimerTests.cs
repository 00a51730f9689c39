using Resilience.Time;
using Resilience.Timeouts;

namespace Resilience.Core.Tests.Timeouts;

/// <summary>
/// The shared coarse timer on the real clock (it serves <see cref="TimeProvider.System"/> only). The tests wait for
/// cancellation signals, never for time to pass, and use the shortest limit the timer takes (1 s).
/// </summary>
public sealed class CoarseTimerTests
{
    private static readonly TimeSpan Limit = CoarseTimer.MinimumLimit;

    [Fact]
    public void TryArm_LimitPasses_CancelsTheSourceAndDisarmLosesTheRace()
    {
        using var cts = new CancellationTokenSource();
        var registration = CoarseTimer.Shared.TryArm(cts, Limit);

        Assert.True(registration.IsArmed);
        Assert.True(cts.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "The coarse timer never cancelled the source.");
        Assert.False(CoarseTimer.Shared.TryDisarm(registration));
    }

    [Fact]
    public void TryDisarm_BeforeTheLimit_SourceIsNeverCancelled()
    {
        using var disarmed = new CancellationTokenSource();
        using var witness = new CancellationTokenSource();
        var first = CoarseTimer.Shared.TryArm(disarmed, Limit);
        Assert.True(CoarseTimer.Shared.TryDisarm(first));

        // Armed after the first, so due no earlier: once it fired, the scanner has passed the first one's due time.
        var second = CoarseTimer.Shared.TryArm(witness, Limit);
        Assert.True(second.IsArmed);
        Assert.True(witness.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)));

        Assert.False(disarmed.IsCancellationRequested);
    }

    [Theory]
    [InlineData(50)] // below the coarse timer's minimum: the runtime's timer queue (CancelAfter)
    [InlineData(1000)] // the coarse timer
    public async Task TimeoutStrategy_SystemClockSyncWait_IsCancelledAtTheLimit(int limitMs)
    {
        // Waits on the token's handle, as a blocking driver call would: only a timer armed before the call can release it.
        var strategy = new TimeoutOnly(new TimeoutOptions { Timeout = TimeSpan.FromMilliseconds(limitMs) }, TimeProvider.System);

        var outcome = await strategy.ExecuteOutcomeAsync(static (_, ct) =>
        {
            bool cancelled = ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
            ct.ThrowIfCancellationRequested();
            return new ValueTask<bool>(cancelled);
        }, 0, CancellationToken.None);

        Assert.IsType<OperationTimeoutException>(outcome.Exception);
    }

    [Fact]
    public void TimeoutStrategy_ManyParallelFastCalls_NeverSeeACancelledTokenAndReuseSources()
    {
        var strategy = new TimeoutOnly(new TimeoutOptions { Timeout = Limit }, TimeProvider.System);
        int spurious = 0;

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            for (int i = 0; i < 50_000; i++)
            {
                var outcome = strategy.ExecuteOutcomeAsync(static (_, ct) => new ValueTask<bool>(ct.IsCancellationRequested), 0, CancellationToken.None)
                    .AsTask().GetAwaiter().GetResult();
                if (outcome.HasException || outcome.Result)
                {
                    Interlocked.Increment(ref spurious);
                }
            }
        });

        Assert.Equal(0, spurious);
        Assert.True(strategy.Pool.Count > 0);
    }
}

/// <summary>The coarse timer on a clock the test ticks by hand: firing, disarming and the ticker's parking, deterministically.</summary>
public sealed class CoarseTimerTickTests
{
    private static readonly TimeSpan Limit = CoarseTimer.MinimumLimit;
    private long _now = 10_000;
    private readonly CoarseClock _clock;
    private readonly CoarseTimer _timer;

    public CoarseTimerTickTests()
    {
        _clock = new CoarseClock(() => Volatile.Read(ref _now), startsTicker: false);
        _timer = new CoarseTimer(_clock);
    }

    [Fact]
    public void Tick_PastTheDueTime_CancelsTheSourceAndTheDisarmLoses()
    {
        using var cts = new CancellationTokenSource();
        var registration = _timer.TryArm(cts, Limit);

        Advance(Limit - TimeSpan.FromMilliseconds(1));
        Assert.False(cts.IsCancellationRequested);

        // Due now; fired by the next scan, at most a period later.
        Advance(CoarseTimer.Period + TimeSpan.FromMilliseconds(1));
        Assert.True(cts.IsCancellationRequested);
        Assert.False(_timer.TryDisarm(registration));
    }

    [Fact]
    public void TryDisarm_BeforeTheDueTime_TheSourceIsNeverCancelled()
    {
        using var cts = new CancellationTokenSource();
        var registration = _timer.TryArm(cts, Limit);

        Assert.True(_timer.TryDisarm(registration));
        Advance(Limit * 3);

        Assert.False(cts.IsCancellationRequested);
    }

    [Fact]
    public void TryArm_OwnSlotStillArmed_ClaimsAnotherAndBothFire()
    {
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();

        // The first call went asynchronous and is still armed when this thread starts the next one.
        var a = _timer.TryArm(first, Limit);
        var b = _timer.TryArm(second, Limit);
        Assert.NotEqual(a.Index, b.Index);

        Advance(Limit + CoarseTimer.Period);
        Assert.True(first.IsCancellationRequested);
        Assert.True(second.IsCancellationRequested);
    }

    [Fact]
    public void Tick_SlotArmedAndNobodyReadsTheClock_TheTickerNeverParksBeforeItFires()
    {
        using var cts = new CancellationTokenSource();
        var limit = TimeSpan.FromSeconds(5);
        _timer.TryArm(cts, limit);

        // Five seconds of ticks without a read of the clock: a parked ticker would never fire the timeout.
        for (int i = 0; i < (int)(limit + CoarseTimer.Period).TotalMilliseconds; i++)
        {
            Volatile.Write(ref _now, _now + 1);
            Assert.True(_clock.Tick(), $"the ticker parked at tick {i} with a slot armed");
        }

        Assert.True(cts.IsCancellationRequested);
    }

    [Fact]
    public void TryArm_AfterTheTickerParked_RestartsIt()
    {
        _ = _clock.Milliseconds;
        while (_clock.Tick())
        {
            Volatile.Write(ref _now, _now + 1);
        }

        Assert.False(_clock.IsRunning);
        using var cts = new CancellationTokenSource();
        _timer.TryArm(cts, Limit);

        Assert.True(_clock.IsRunning);
    }

    private void Advance(TimeSpan by)
    {
        for (long i = 0; i < (long)by.TotalMilliseconds; i++)
        {
            Volatile.Write(ref _now, _now + 1);
            _clock.Tick();
        }
    }
}
