namespace Resilience;

/// <summary>Where a custom <see cref="ResilienceLayer"/> sits in the fixed order of a pipeline's layers.</summary>
public enum CustomLayerPosition
{
    /// <summary>Outermost but for the fallback: sees each call once, before the rate limiter and every timeout.</summary>
    Outer,

    /// <summary>Inside retry and hedging, outside the circuit breaker: runs once per attempt (each retry, each hedged copy).</summary>
    Attempt,

    /// <summary>Innermost, around the operation itself: inside the attempt timeout and fault injection.</summary>
    Inner,
}
