using Resilience.CircuitBreaking;
using Resilience.Retry;

namespace Resilience.Npgsql;

/// <summary>Defaults and limits of <see cref="NpgsqlResilienceOptions"/>, used by the initializers, the validation and the docs.</summary>
internal static class NpgsqlResilienceConstants
{
    public const string DefaultName = "postgres";
    public static readonly TimeSpan MinTotalTimeout = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaxTotalTimeout = TimeSpan.FromHours(1);

    // The database breaker opens on a sustained failure ratio, not on a burst: when a restart or terminated backends fail
    // every in-flight call at once, the retries on fresh connections succeed and keep the ratio low. Only a server that
    // keeps failing for seconds opens it, and then it probes every few seconds, so a blip never becomes a long outage.
    public const CircuitBreakerMode DefaultBreakerMode = CircuitBreakerMode.FailureRatio;
    public const double DefaultBreakerFailureRatio = 0.5;
    public static readonly TimeSpan DefaultBreakerSamplingDuration = TimeSpan.FromSeconds(5);
    public const int DefaultBreakerMinimumThroughput = 20;
    public static readonly TimeSpan DefaultBreakDuration = TimeSpan.FromSeconds(5);

    // Five retries (medians 0.1, 0.2, 0.4, 0.8, 1.6 s): a call rides out a restart or a failover of about three seconds
    // instead of failing after the usual 0.7 s; the breaker, not the retry, stops the waiting when the server stays down.
    public const int DefaultMaxRetries = 5;

    /// <summary>Creates the default retry settings of a database: <see cref="RetryPresets.Database"/> with <see cref="DefaultMaxRetries"/>.</summary>
    /// <returns>New options.</returns>
    public static RetryOptions CreateDefaultRetry()
    {
        var retry = RetryPresets.Database;
        retry.MaxRetries = DefaultMaxRetries;
        return retry;
    }

    /// <summary>Creates the default breaker settings of a database (see the package README, "Circuit breaker defaults").</summary>
    /// <returns>New options.</returns>
    public static CircuitBreakerOptions CreateDefaultBreaker() => new()
    {
        Mode = DefaultBreakerMode,
        FailureRatio = DefaultBreakerFailureRatio,
        SamplingDuration = DefaultBreakerSamplingDuration,
        MinimumThroughput = DefaultBreakerMinimumThroughput,
        BreakDuration = DefaultBreakDuration,
    };
}
