namespace Resilience.AdaptiveConcurrency;

/// <summary>Defaults and limits of <see cref="AdaptiveConcurrencyOptions"/>, for the initializers, the validation and the docs.</summary>
internal static class AdaptiveConcurrencyConstants
{
    public const int DefaultInitialLimit = 8;
    public const int DefaultMinLimit = 2;
    public const int DefaultMaxLimit = 1000;
    public const int DefaultQueueLimit = 16;
    public const double DefaultTolerance = 1.25;
    public const double DefaultSmoothing = 0.5;
    public const double DefaultSheddableShare = 0.75;
    public const int MaxLimitBound = 1_000_000;

    public static readonly TimeSpan DefaultMaxQueueWait = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan DefaultSampleWindow = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan DefaultBaselineInterval = TimeSpan.FromSeconds(30);

    /// <summary>How many calls started during a baseline probe make its measurement.</summary>
    public const int ProbeSamples = 10;

    /// <summary>The longest a probe holds the limit down, in multiples of the baseline it replaces (at least a second).</summary>
    public const int ProbeTimeoutFactor = 10;

    /// <summary>A window also needs this many samples, so one slow call on a quiet dependency cannot move the limit.</summary>
    public const int MinWindowSamples = 10;

    /// <summary>
    /// The gradient's floor: one cut never takes more than a quarter off the limit. Cuts apply at once and once per cohort,
    /// so a few reach the knee; a deeper floor let one noisy window (a pause on a loaded machine) halve the limit below the
    /// dependency's capacity (ours kept 86 % of capacity at 4× on the overload harness with a floor of 0.5).
    /// </summary>
    public const double MinGradient = 0.75;

    /// <summary>A window with timed-out calls shrinks the limit at least to this share (a timeout has no latency sample).</summary>
    public const double TimeoutBackoff = 0.9;
}
