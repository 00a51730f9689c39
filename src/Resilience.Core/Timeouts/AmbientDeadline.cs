namespace Resilience.Timeouts;

/// <summary>
/// The deadline of the work running on this async flow (set by <see cref="Deadline"/>), so that a retry strategy deep
/// inside it never starts a delay that would end after it. Read only on the retry path, never on a first-try success.
/// </summary>
internal static class AmbientDeadline
{
    private static readonly AsyncLocal<Scope?> Current = new();

    /// <summary>Sets the deadline for the rest of the calling async method (an async method's changes do not flow back to its caller).</summary>
    public static void Set(TimeProvider timeProvider, TimeSpan limit)
    {
        var scope = new Scope(timeProvider, timeProvider.GetTimestamp(), limit);
        var outer = Current.Value;
        if (outer is null || scope.TimeLeft() < outer.TimeLeft())
        {
            Current.Value = scope;
        }
    }

    /// <summary>Gets the time left before the ambient deadline, or <see cref="Timeout.InfiniteTimeSpan"/> when there is none.</summary>
    public static TimeSpan TimeLeft() => Current.Value is { } scope ? scope.TimeLeft() : Timeout.InfiniteTimeSpan;

    private sealed class Scope(TimeProvider timeProvider, long startedAt, TimeSpan limit)
    {
        public TimeSpan TimeLeft()
        {
            var left = limit - timeProvider.GetElapsedTime(startedAt);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }
}
