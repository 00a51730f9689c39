namespace Resilience.Retry;

/// <summary>How randomness spreads the retries of many callers so they do not hit a dependency in lockstep.</summary>
public enum RetryJitter
{
    /// <summary>No randomness: the backoff delay as computed, capped by <see cref="RetryOptions.MaxDelay"/>.</summary>
    None = 0,

    /// <summary>"Full jitter": a uniformly random delay between zero and the capped backoff delay.</summary>
    Full = 1,

    /// <summary>
    /// Decorrelated jitter in its smoothed "V2" form (the well-known <c>DecorrelatedJitterBackoffV2</c> formula):
    /// each delay depends on the previous one, grows by about <see cref="RetryOptions.BackoffFactor"/> per retry
    /// and never bunches near zero. Requires <see cref="RetryBackoff.Exponential"/>.
    /// </summary>
    Decorrelated = 2,
}
