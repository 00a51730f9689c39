namespace Resilience.CircuitBreaking;

/// <summary>Describes one state change of a circuit breaker, as passed to <see cref="CircuitBreakerOptions.OnStateChanged"/>.</summary>
public readonly struct CircuitStateChange
{
    internal CircuitStateChange(string breakerName, CircuitState from, CircuitState to, CircuitTransitionReason reason, TimeSpan breakDuration, Exception? exception)
    {
        BreakerName = breakerName;
        From = from;
        To = to;
        Reason = reason;
        BreakDuration = breakDuration;
        Exception = exception;
    }

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
