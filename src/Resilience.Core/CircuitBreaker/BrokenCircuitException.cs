namespace Resilience.CircuitBreaking;

/// <summary>The exception raised when a circuit breaker rejects a call because it is open, isolated, or busy probing.</summary>
/// <remarks>
/// The throwing <c>Execute</c> overloads create a new instance per rejection. The non-throwing
/// <see cref="CircuitBreaker.ExecuteOutcomeAsync{TState, TResult}(Func{TState, CancellationToken, ValueTask{TResult}}, TState, CancellationToken)"/>
/// returns a cached instance created when the circuit opened (so <see cref="RemainingBreak"/> is the full break as of
/// that moment); do not rely on its stack trace.
/// </remarks>
public sealed class BrokenCircuitException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="BrokenCircuitException"/> class.</summary>
    public BrokenCircuitException()
        : this("The circuit is open.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="BrokenCircuitException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public BrokenCircuitException(string message)
        : base(message)
    {
        BreakerName = string.Empty;
        State = CircuitState.Open;
    }

    /// <summary>Initializes a new instance of the <see cref="BrokenCircuitException"/> class with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public BrokenCircuitException(string message, Exception innerException)
        : base(message, innerException)
    {
        BreakerName = string.Empty;
        State = CircuitState.Open;
    }

    /// <summary>Initializes a new instance of the <see cref="BrokenCircuitException"/> class for a breaker.</summary>
    /// <param name="breakerName">The name of the breaker.</param>
    /// <param name="state">The state that rejected the call.</param>
    /// <param name="remainingBreak">How long until the circuit admits a probe.</param>
    public BrokenCircuitException(string breakerName, CircuitState state, TimeSpan remainingBreak)
        : base(CreateMessage(breakerName, state, remainingBreak))
    {
        BreakerName = breakerName;
        State = state;
        RemainingBreak = remainingBreak;
    }

    /// <summary>Gets the name of the breaker that rejected the call.</summary>
    public string BreakerName { get; }

    /// <summary>Gets the state that rejected the call.</summary>
    public CircuitState State { get; }

    /// <summary>Gets how long until the circuit admits a probe.</summary>
    /// <value><see cref="TimeSpan.Zero"/> when half-open and every probe slot is taken; <see cref="Timeout.InfiniteTimeSpan"/> when isolated.</value>
    public TimeSpan RemainingBreak { get; }

    /// <summary>Gets the error ID callers report for this failure.</summary>
    public static string ErrorId => Failures.ErrorIds.CircuitOpen;

    /// <summary>
    /// Set on the one instance a breaker shares between non-throwing rejections (so they allocate nothing). It must not be
    /// thrown from many threads at once — each throw rewrites its stack trace — so the throwing edge throws a copy.
    /// </summary>
    internal CircuitBreaker? SharedBy { get; init; }

    /// <summary>Returns an exception that may be thrown: this one, or a fresh copy of a shared one with the break left now.</summary>
    internal Exception ForThrowing() => SharedBy is { } breaker
        ? new BrokenCircuitException(BreakerName, State, State == CircuitState.Open ? breaker.CurrentRemainingBreak : RemainingBreak)
        : this;

    private static string CreateMessage(string name, CircuitState state, TimeSpan remaining) => state switch
    {
        CircuitState.Isolated => $"The circuit '{name}' is isolated; calls are rejected until it is reset.",
        CircuitState.HalfOpen => $"The circuit '{name}' is half-open and its probe calls are in flight; try again shortly.",
        _ => $"The circuit '{name}' is open; it admits a probe in {remaining.TotalSeconds:0.###} s.",
    };
}
