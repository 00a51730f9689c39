namespace Resilience.CircuitBreaking;

/// <summary>The exception raised when a circuit breaker rejects a call because it is open, isolated, or busy probing.</summary>
/// <remarks>
/// A pipeline's throwing <c>ExecuteAsync</c> throws a new instance per rejection. The outcome-returning
/// <c>ExecuteOutcomeAsync</c> returns one instance shared per opening, which computes <see cref="RemainingBreak"/> when
/// read; do not rely on its stack trace.
/// </remarks>
public sealed class BrokenCircuitException : ExecutionRejectedException
{
    private readonly TimeSpan _remainingBreak;

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
        _remainingBreak = remainingBreak;
    }

    /// <summary>Gets the name of the breaker that rejected the call.</summary>
    public string BreakerName { get; }

    /// <summary>Gets the state that rejected the call.</summary>
    public CircuitState State { get; }

    /// <summary>Gets how long until the circuit admits a call again.</summary>
    /// <value>
    /// When open: the break left. When half-open with every probe in flight: the time until the probes are given up at
    /// the latest (<see cref="CircuitBreakerOptions.ProbeTimeout"/>). When isolated: <see cref="Timeout.InfiniteTimeSpan"/>.
    /// The instance a breaker shares between non-throwing rejections computes it when read, so it and
    /// <see cref="Message"/> always tell the time left now.
    /// </value>
    public TimeSpan RemainingBreak => SharedBy is { } breaker && State != CircuitState.Isolated ? breaker.RemainingUntil(SharedUntil) : _remainingBreak;

    /// <inheritdoc/>
    public override string Message => SharedBy is null ? base.Message : CreateMessage(BreakerName, State, RemainingBreak);

    /// <summary>Gets how long until the circuit admits a call: <see cref="RemainingBreak"/>, or <see langword="null"/> while isolated.</summary>
    public override TimeSpan? RetryAfter => State == CircuitState.Isolated ? null : RemainingBreak;

    /// <summary>Gets the error ID callers report for this failure.</summary>
    public static string ErrorId => Failures.ErrorIds.CircuitOpen;

    /// <summary>
    /// Set on the one instance a breaker shares between non-throwing rejections (so they allocate nothing). It must not be
    /// thrown from many threads at once — each throw rewrites its stack trace — so the throwing edge throws a copy.
    /// </summary>
    internal CircuitBreaker? SharedBy { get; init; }

    /// <summary>For a shared instance: when the refusal ends, in the breaker's monotonic time.</summary>
    internal long SharedUntil { get; init; }

    /// <summary>Whether the refusal is brief: the circuit (open, or half-open with its probe in flight) has a break of at most <paramref name="limit"/>.</summary>
    /// <remarks>A copy made for throwing no longer knows its breaker; an open one's remaining break stands in for the break.</remarks>
    internal override bool IsBrief(TimeSpan limit) => State switch
    {
        CircuitState.Open or CircuitState.HalfOpen when SharedBy is { } breaker => breaker.CurrentBreak <= limit,
        CircuitState.Open => _remainingBreak <= limit,
        _ => false,
    };

    /// <summary>Gets the break left while open; half-open or isolated, the refusal's end is not a time to wait for.</summary>
    internal override TimeSpan? WaitHint => State == CircuitState.Open ? RemainingBreak : null;

    internal override bool IsShared => SharedBy is not null;

    /// <summary>For a shared instance: cancelled when the circuit closes (the outage that refused the call is over).</summary>
    internal CancellationToken CircuitClosed { get; init; }

    /// <inheritdoc/>
    internal override CancellationToken Ended => State is CircuitState.Open or CircuitState.HalfOpen ? CircuitClosed : default;

    /// <summary>Returns an exception that may be thrown: this one, or a fresh copy of a shared one with the time left now.</summary>
    internal override Exception ForThrowing() => SharedBy is not null
        ? new BrokenCircuitException(BreakerName, State, RemainingBreak)
        : this;

    private static string CreateMessage(string name, CircuitState state, TimeSpan remaining) => state switch
    {
        CircuitState.Isolated => $"The circuit '{name}' is isolated; calls are rejected until it is reset.",
        CircuitState.HalfOpen => $"The circuit '{name}' is half-open and its probe calls are in flight; it admits a call within {remaining.TotalSeconds:0.###} s at the latest.",
        _ => $"The circuit '{name}' is open; it admits a probe in {remaining.TotalSeconds:0.###} s.",
    };
}
