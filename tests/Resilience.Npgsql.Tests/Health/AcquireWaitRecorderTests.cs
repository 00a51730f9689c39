using Microsoft.Extensions.Time.Testing;

namespace Resilience.Npgsql.Tests.Health;

public sealed class AcquireWaitRecorderTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void GetRecentP99_CallerStillWaiting_CountsItsWaitSoFar()
    {
        var recorder = new AcquireWaitRecorder(_time);
        recorder.Record(TimeSpan.FromMilliseconds(3));
        var slot = recorder.BeginWait(_time.GetTimestamp());

        _time.Advance(TimeSpan.FromMilliseconds(1_200));
        var waiting = recorder.GetRecentP99();
        recorder.EndWait(slot);
        var afterEnd = recorder.GetRecentP99();

        Assert.Equal(TimeSpan.FromMilliseconds(1_200), waiting);
        Assert.Equal(TimeSpan.FromMilliseconds(3), afterEnd); // the caller stopped waiting without recording (as a cancelled one does)
    }

    [Fact]
    public void GetRecentP99_WaitsOlderThanWindow_NoLongerShow()
    {
        var recorder = new AcquireWaitRecorder(_time);
        recorder.Record(TimeSpan.FromSeconds(2));
        var exhausted = recorder.GetRecentP99();

        _time.Advance(AcquireWaitRecorder.Window + TimeSpan.FromSeconds(1));
        var later = recorder.GetRecentP99();
        recorder.Record(TimeSpan.FromMilliseconds(1));
        var recovered = recorder.GetRecentP99();

        Assert.Equal(TimeSpan.FromSeconds(2), exhausted);
        Assert.Null(later);
        Assert.Equal(TimeSpan.FromMilliseconds(1), recovered);
        Assert.Equal(TimeSpan.FromSeconds(2), recorder.GetP99()); // the whole ring, for the figures
    }
}
