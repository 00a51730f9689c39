namespace Resilience.CircuitBreaking;

/// <summary>Defaults and limits of <see cref="CircuitBreakerOptions"/>: used by the initializers, the validation and the docs.</summary>
internal static class CircuitBreakerConstants
{
    public const CircuitBreakerMode DefaultMode = CircuitBreakerMode.ConsecutiveFailures;
    public const int DefaultFailureThreshold = 5;
    public const string DefaultBreakDurationText = "00:01:00";
    public static readonly TimeSpan DefaultBreakDuration = TimeSpan.FromSeconds(60);
    public const double DefaultFailureRatio = 0.5;
    public static readonly TimeSpan DefaultSamplingDuration = TimeSpan.FromSeconds(30);
    public const int DefaultSamplingBuckets = 10;
    public const int DefaultMinimumThroughput = 10;
    public const int DefaultPermittedProbes = 1;
    public const double DefaultBreakDurationFactor = 1.0;
    public static readonly TimeSpan DefaultMaxBreakDuration = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(10);

    public const string MinDuration = "00:00:00.001";
    public const string MaxDuration = "1.00:00:00";
    public const string MinSamplingDuration = "00:00:00.100";
    public const double MinFailureRatio = 0.001;
    public const int MaxSamplingBuckets = 1000;
    public const int MaxPermittedProbes = 1000;
    public const double MaxBreakDurationFactor = 100.0;

    /// <summary>Each bucket of the sliding window must span at least this long, so the ring stays meaningful.</summary>
    public static readonly TimeSpan MinBucketDuration = TimeSpan.FromMilliseconds(10);

    public const string DefaultName = "default";
}
