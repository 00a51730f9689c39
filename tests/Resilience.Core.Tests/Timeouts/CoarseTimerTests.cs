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
        var strategy = new TimeoutStrategy(new TimeoutOptions { Timeout = TimeSpan.FromMilliseconds(limitMs) }, TimeProvider.System);

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
        var strategy = new TimeoutStrategy(new TimeoutOptions { Timeout = Limit }, TimeProvider.System);
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
