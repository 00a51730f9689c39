namespace Resilience.CircuitBreaking;

/// <summary>How a closed circuit decides to open.</summary>
public enum CircuitBreakerMode
{
    /// <summary>Opens after <see cref="CircuitBreakerOptions.FailureThreshold"/> failures in a row.</summary>
    ConsecutiveFailures = 0,

    /// <summary>
    /// Opens when, over the last <see cref="CircuitBreakerOptions.SamplingDuration"/>, at least
    /// <see cref="CircuitBreakerOptions.MinimumThroughput"/> calls were made and the share of failures reached
    /// <see cref="CircuitBreakerOptions.FailureRatio"/>.
    /// </summary>
    FailureRatio = 1,
}
