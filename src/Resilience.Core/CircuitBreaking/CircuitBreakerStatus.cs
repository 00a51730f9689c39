namespace Resilience.CircuitBreaking;

/// <summary>The status of one named breaker, for health endpoints and status pages; serializes to JSON as-is.</summary>
/// <param name="Name">The breaker's name.</param>
/// <param name="State">The circuit state (serialized as its name).</param>
/// <param name="Failures">Consecutive failures, or failures in the sliding window in ratio mode.</param>
/// <param name="OpenedAt">When the circuit last opened; <see langword="null"/> while closed.</param>
/// <param name="NextProbeAt">When an open circuit admits its next probe; <see langword="null"/> unless open.</param>
/// <param name="Rejections">Calls rejected since the breaker was created (a lower bound under concurrent rejections; see <see cref="CircuitBreakerSnapshot.Rejections"/>).</param>
/// <param name="Transitions">State changes since the breaker was created.</param>
public sealed record CircuitBreakerStatus(
    string Name,
    CircuitState State,
    int Failures,
    DateTimeOffset? OpenedAt,
    DateTimeOffset? NextProbeAt,
    long Rejections,
    long Transitions);
