namespace Resilience.Core.Tests.CircuitBreaking;

/// <summary>A clock whose timers never fire: a starved thread pool, so only the breaker's own clock reads end a break.</summary>
internal sealed class SilentTimerTimeProvider(TimeProvider inner) : TimeProvider
{
    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new SilentTimer();

    private sealed class SilentTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
