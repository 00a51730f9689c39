namespace Resilience.Time;

/// <summary>
/// Monotonic time in <see cref="TimeSpan"/> ticks for the hot paths. With <see cref="TimeProvider.System"/> it reads
/// <see cref="CoarseClock"/> (<see cref="Environment.TickCount64"/> kept in a field): coarse (a millisecond or a few)
/// but a memory read instead of a system call, and precise enough for break durations, sampling buckets, staleness,
/// deadlines and slow-call thresholds. Any other provider (e.g. FakeTimeProvider in tests) is read through its own
/// timestamp, exactly.
/// </summary>
internal readonly struct MonotonicClock
{
    private readonly TimeProvider? _custom;
    private readonly long _frequency;

    public MonotonicClock(TimeProvider timeProvider)
    {
        _custom = ReferenceEquals(timeProvider, TimeProvider.System) ? null : timeProvider;
        _frequency = timeProvider.TimestampFrequency;
    }

    /// <summary>Gets the current time in <see cref="TimeSpan"/> ticks since an arbitrary origin.</summary>
    public long Now => _custom is null
        ? CoarseClock.Shared.Milliseconds * TimeSpan.TicksPerMillisecond
        : ToTicks(_custom.GetTimestamp());

    // Integer arithmetic: timestamps can exceed a double's 53-bit precision (FakeTimeProvider counts ticks since year 1).
    private long ToTicks(long timestamp) => _frequency == TimeSpan.TicksPerSecond
        ? timestamp
        : (timestamp / _frequency * TimeSpan.TicksPerSecond) + (timestamp % _frequency * TimeSpan.TicksPerSecond / _frequency);
}
