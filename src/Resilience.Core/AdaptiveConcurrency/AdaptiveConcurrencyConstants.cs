namespace Resilience.AdaptiveConcurrency;

/// <summary>Defaults and limits of <see cref="AdaptiveConcurrencyOptions"/>, for the initializers, the validation and the docs.</summary>
internal static class AdaptiveConcurrencyConstants
{
    public const int DefaultInitialLimit = 8;
    public const int DefaultMinLimit = 2;
    public const int DefaultMaxLimit = 1000;
    public const int DefaultQueueLimit = 16;
    public const double DefaultTolerance = 1.5;
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

    /// <summary>The gradient's floor: one window never cuts the limit by more than half.</summary>
    public const double MinGradient = 0.5;

    /// <summary>A window with timed-out calls shrinks the limit at least to this share (a timeout has no latency sample).</summary>
    public const double TimeoutBackoff = 0.9;
}
