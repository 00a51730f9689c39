namespace Resilience.CircuitBreaking;

/// <summary>A consistent view of a circuit breaker's state and counters at one moment.</summary>
public readonly struct CircuitBreakerSnapshot
{
    internal CircuitBreakerSnapshot(CircuitState state, int failures, int calls, DateTimeOffset? openedAt, DateTimeOffset? nextProbeAt, TimeSpan breakDuration, long rejections, long transitions)
    {
        State = state;
        Failures = failures;
        Calls = calls;
        OpenedAt = openedAt;
        NextProbeAt = nextProbeAt;
        BreakDuration = breakDuration;
        Rejections = rejections;
        Transitions = transitions;
    }

    /// <summary>Gets the circuit state.</summary>
    public CircuitState State { get; }

    /// <summary>Gets the counted failures: consecutive failures (consecutive mode) or failures in the sliding window (ratio mode).</summary>
    public int Failures { get; }

    /// <summary>Gets the calls in the sliding window (ratio mode); 0 in consecutive mode.</summary>
    public int Calls { get; }

    /// <summary>Gets when the circuit last opened (or was isolated); <see langword="null"/> while closed.</summary>
    public DateTimeOffset? OpenedAt { get; }

    /// <summary>Gets when the open circuit admits its next probe; <see langword="null"/> unless open.</summary>
    public DateTimeOffset? NextProbeAt { get; }

    /// <summary>Gets the current break duration (grows when probes fail and a factor is configured).</summary>
    public TimeSpan BreakDuration { get; }

    /// <summary>Gets how many calls were rejected since the breaker was created.</summary>
    /// <remarks>
    /// An open circuit counts its rejections without atomic operations, to keep a rejection to a few nanoseconds, so
    /// under concurrent rejections this figure may fall short; it never over-counts. The
    /// <c>resilience.circuit_breaker.rejections</c> metric counts every one.
    /// </remarks>
    public long Rejections { get; }

    /// <summary>Gets how many state changes happened since the breaker was created.</summary>
    public long Transitions { get; }
}
