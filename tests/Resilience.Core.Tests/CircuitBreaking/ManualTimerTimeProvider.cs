namespace Resilience.Core.Tests.CircuitBreaking;

/// <summary>A clock whose timers fire only when the test says so (e.g. a break timer early or late against the clock).</summary>
internal sealed class ManualTimerTimeProvider(TimeProvider inner) : TimeProvider
{
    private readonly List<(TimerCallback Callback, object? State)> _timers = [];

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _timers.Add((callback, state));
        return new SilentTimerTimeProvider(inner).CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>Runs every timer's callback once, as if each had come due; a callback that creates a timer does not run it now.</summary>
    public void FireAll()
    {
        foreach (var (callback, state) in _timers.ToArray())
        {
            callback(state);
        }
    }
}
