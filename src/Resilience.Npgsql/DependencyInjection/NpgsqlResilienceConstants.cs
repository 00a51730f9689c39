using Resilience.CircuitBreaking;
using Resilience.Retry;

namespace Resilience.Npgsql;

/// <summary>Defaults and limits of <see cref="NpgsqlResilienceOptions"/>, used by the initializers, the validation and the docs.</summary>
internal static class NpgsqlResilienceConstants
{
    public const string DefaultName = "postgres";

    // While the circuit is open, at most this many calls per pooled connection wait for the return (400 for Npgsql's
    // default pool of 100): a short outage's calls at a pool's pace, drained in a few rounds of the pool once it is back.
    public const int DefaultWaitingCallsPerConnection = 4;
    public const int MaxMaxWaitingCalls = 1_000_000;

    // A young outage's watch for the server's return: one connection attempt per interval (a refused one costs the server
    // nothing), so the first call after the return waits at most about this long instead of the rest of the break.
    public static readonly TimeSpan DefaultRecoveryProbeInterval = TimeSpan.FromMilliseconds(25);
    public static readonly TimeSpan MaxRecoveryProbeInterval = TimeSpan.FromSeconds(10);
    // The concurrency limit's queue: a second is long next to a healthy statement and short next to the pool's 15 s acquire
    // timeout. A tolerance of 2 (Core's is 1.5): a database's mean latency moves with its mix of queries, not only with load.
    public static readonly TimeSpan DefaultMaxQueueWait = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxMaxQueueWait = TimeSpan.FromMinutes(1);
    public const double DefaultConcurrencyTolerance = 2.0;

    public static readonly TimeSpan MinTotalTimeout = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaxTotalTimeout = TimeSpan.FromHours(1);

    // The database breaker opens on a sustained failure ratio, not on a burst: when a restart or terminated backends fail
    // every in-flight call at once, the retries on fresh connections succeed and keep the ratio low. Once open it probes
    // after a quarter of a second, and the break grows by half with each failed probe up to 5 s (0.25, 0.38, 0.56, … s):
    // a server back within a second or two is found within a short break, one down for long sees a probe per 5 s.
    public const CircuitBreakerMode DefaultBreakerMode = CircuitBreakerMode.FailureRatio;
    public const double DefaultBreakerFailureRatio = 0.5;
    public static readonly TimeSpan DefaultBreakerSamplingDuration = TimeSpan.FromSeconds(5);
    public const int DefaultBreakerMinimumThroughput = 20;
    public static readonly TimeSpan DefaultBreakDuration = TimeSpan.FromMilliseconds(250);
    public const double DefaultBreakDurationFactor = 1.5;
    public static readonly TimeSpan DefaultMaxBreakDuration = TimeSpan.FromSeconds(5);

    // Five retries (medians 0.1, 0.2, 0.4, 0.8, 1.6 s): a call rides out a restart or a failover of about three seconds
    // instead of failing after the usual 0.7 s; the breaker, not the retry, stops the waiting when the server stays down.
    // While the break is still short (at most the retry's 2 s MaxDelay) a refused attempt waits for the next probe instead of
    // failing the call: the refusal never reached the server, and a blip is over before the call would have given up.
    public const int DefaultMaxRetries = 5;

    /// <summary>Creates the default retry settings of a database: <see cref="RetryPresets.Database"/> with <see cref="DefaultMaxRetries"/>, waiting out short breaks, named after the data source.</summary>
    /// <returns>New options.</returns>
    public static RetryOptions CreateDefaultRetry()
    {
        var retry = RetryPresets.Database;

        // Unnamed, so the retry's metrics and logs carry the data source's name, as the breaker's do: two databases stay apart.
        retry.Name = null;
        retry.MaxRetries = DefaultMaxRetries;
        retry.WaitOutShortBreaks = true;
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
        BreakDurationFactor = DefaultBreakDurationFactor,
        MaxBreakDuration = DefaultMaxBreakDuration,
    };
}
