using Microsoft.Extensions.Time.Testing;

namespace Resilience.Npgsql.Tests.Health;

public sealed class AcquireWaitRecorderTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void GetP99Since_CallerStillWaiting_CountsItsWaitSoFar()
    {
        var recorder = new AcquireWaitRecorder(_time);
        long cursor = 0;
        recorder.Record(TimeSpan.FromMilliseconds(3));
        var slot = recorder.BeginWait(_time.GetTimestamp());

        _time.Advance(TimeSpan.FromMilliseconds(1_200));
        var waiting = recorder.GetP99Since(ref cursor);
        recorder.EndWait(slot);
        var afterEnd = recorder.GetP99Since(ref cursor);

        Assert.Equal(TimeSpan.FromMilliseconds(1_200), waiting);
        Assert.Null(afterEnd); // nothing recorded or waiting since the previous snapshot
    }

    [Fact]
    public void GetP99Since_WaitsBeforeTheCursor_NoLongerShow()
    {
        var recorder = new AcquireWaitRecorder(_time);
        long cursor = 0;
        recorder.Record(TimeSpan.FromSeconds(2));
        var exhausted = recorder.GetP99Since(ref cursor);

        recorder.Record(TimeSpan.FromMilliseconds(1));
        var recovered = recorder.GetP99Since(ref cursor);

        Assert.Equal(TimeSpan.FromSeconds(2), exhausted);
        Assert.Equal(TimeSpan.FromMilliseconds(1), recovered);
        Assert.Equal(TimeSpan.FromSeconds(2), recorder.GetP99()); // the whole ring, for the figures
    }
}
