namespace Resilience.CircuitBreaking;

/// <summary>Describes one state change of a circuit breaker, as passed to <see cref="CircuitBreakerOptions.OnStateChanged"/>.</summary>
public readonly struct CircuitStateChange
{
    internal CircuitStateChange(long sequence, string breakerName, CircuitState from, CircuitState to, CircuitTransitionReason reason, TimeSpan breakDuration, Exception? exception)
    {
        Sequence = sequence;
        BreakerName = breakerName;
        From = from;
        To = to;
        Reason = reason;
        BreakDuration = breakDuration;
        Exception = exception;
    }

    /// <summary>Gets the position of this change among the breaker's changes: 1 for the first, one more for each next.</summary>
    /// <remarks>
    /// Callbacks run outside the breaker's lock, so two changes made in quick succession on different threads can
    /// reach an observer in either order; ordering by this number restores the order in which they happened.
    /// </remarks>
    public long Sequence { get; }

    /// <summary>Gets the name of the breaker.</summary>
    public string BreakerName { get; }

    /// <summary>Gets the state before the change.</summary>
    public CircuitState From { get; }

    /// <summary>Gets the state after the change.</summary>
    public CircuitState To { get; }

    /// <summary>Gets why the state changed.</summary>
    public CircuitTransitionReason Reason { get; }

    /// <summary>Gets the break duration when the circuit opened; <see cref="TimeSpan.Zero"/> otherwise.</summary>
    public TimeSpan BreakDuration { get; }

    /// <summary>Gets the failure that caused the change, when there was one (<see langword="null"/> for slow calls and result failures).</summary>
    public Exception? Exception { get; }
}
