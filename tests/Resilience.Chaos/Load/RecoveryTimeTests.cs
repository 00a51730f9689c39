namespace Resilience.Chaos.Load;

public sealed class RecoveryTimeTests
{
    private static readonly TimeSpan Bucket = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FaultEnd = TimeSpan.FromSeconds(10);

    [Fact]
    public void Compute_SuccessRightAfterFault_IsZero()
    {
        var calls = Calls(from: FaultEnd - TimeSpan.FromSeconds(1), seconds: 3, failUntil: FaultEnd);

        Assert.Equal(TimeSpan.Zero, RecoveryTime.Compute(calls, FaultEnd, Bucket));
    }

    [Fact]
    public void Compute_FailuresForAWhileAfterFault_IsWhenTheyStopped()
    {
        var calls = Calls(from: FaultEnd, seconds: 3, failUntil: FaultEnd + TimeSpan.FromMilliseconds(750));

        Assert.Equal(TimeSpan.FromMilliseconds(800), RecoveryTime.Compute(calls, FaultEnd, Bucket));
    }

    [Fact]
    public void Compute_LateFailuresInABucket_PushRecoveryPastIt()
    {
        // 100 successes in the bucket: one failure leaves it at 99.01 % (still above 99 %), a second drops it to 98.04 %.
        var calls = Calls(from: FaultEnd, seconds: 3, failUntil: FaultEnd).ToList();
        calls.Add((FaultEnd + TimeSpan.FromMilliseconds(2_050), false));
        calls.Add((FaultEnd + TimeSpan.FromMilliseconds(2_060), false));

        Assert.Equal(TimeSpan.FromMilliseconds(2_100), RecoveryTime.Compute(calls, FaultEnd, Bucket));
    }

    [Fact]
    public void Compute_StillFailingAtTheEnd_IsNull()
    {
        var calls = Calls(from: FaultEnd, seconds: 3, failUntil: FaultEnd + TimeSpan.FromSeconds(5));

        Assert.Null(RecoveryTime.Compute(calls, FaultEnd, Bucket));
    }

    // One call per millisecond, failing until failUntil.
    private static IEnumerable<(TimeSpan, bool)> Calls(TimeSpan from, int seconds, TimeSpan failUntil)
    {
        for (var ms = 0; ms < seconds * 1000; ms++)
        {
            var ended = from + TimeSpan.FromMilliseconds(ms);
            yield return (ended, ended >= failUntil);
        }
    }
}
