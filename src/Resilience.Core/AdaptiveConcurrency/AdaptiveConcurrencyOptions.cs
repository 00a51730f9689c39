namespace Resilience.AdaptiveConcurrency;

/// <summary>
/// How an <see cref="AdaptiveConcurrencyLimiter"/> finds the concurrency a dependency can serve: the limit follows the
/// gradient of the dependency's no-load latency against its recent latency (as Envoy's adaptive concurrency filter
/// does), between <see cref="MinLimit"/> and <see cref="MaxLimit"/>, with a short queue.
/// </summary>
/// <remarks>The defaults need no tuning: the limit starts at <see cref="InitialLimit"/> and moves within a few windows.</remarks>
public sealed class AdaptiveConcurrencyOptions
{
    /// <summary>Initializes a new instance of the <see cref="AdaptiveConcurrencyOptions"/> class with the defaults.</summary>
    public AdaptiveConcurrencyOptions()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AdaptiveConcurrencyOptions"/> class as a copy of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public AdaptiveConcurrencyOptions(AdaptiveConcurrencyOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        InitialLimit = other.InitialLimit;
        MinLimit = other.MinLimit;
        MaxLimit = other.MaxLimit;
        QueueLimit = other.QueueLimit;
        MaxQueueWait = other.MaxQueueWait;
        Tolerance = other.Tolerance;
        Smoothing = other.Smoothing;
        SampleWindow = other.SampleWindow;
        BaselineInterval = other.BaselineInterval;
        SheddableShare = other.SheddableShare;
        OnLimitChanged = other.OnLimitChanged;
    }

    /// <summary>Gets or sets the limit before the first measurement.</summary>
    /// <value>Default: 8 (it grows within a few windows when calls press it); between <see cref="MinLimit"/> and <see cref="MaxLimit"/>.</value>
    public int InitialLimit { get; set; } = AdaptiveConcurrencyConstants.DefaultInitialLimit;

    /// <summary>Gets or sets the lowest the limit goes, however slow the dependency gets.</summary>
    /// <value>Default: 2; at least 1.</value>
    public int MinLimit { get; set; } = AdaptiveConcurrencyConstants.DefaultMinLimit;

    /// <summary>Gets or sets the highest the limit goes, however fast the dependency stays.</summary>
    /// <value>Default: 1000.</value>
    public int MaxLimit { get; set; } = AdaptiveConcurrencyConstants.DefaultMaxLimit;

    /// <summary>Gets or sets how many calls may wait for a slot when the limit is reached; beyond it calls are refused at once.</summary>
    /// <value>Default: 16; 0 refuses at once.</value>
    public int QueueLimit { get; set; } = AdaptiveConcurrencyConstants.DefaultQueueLimit;

    /// <summary>
    /// Gets or sets the longest a call waits in the queue: less when the caller's token or deadline says so, and never
    /// more than half the dependency's no-load latency once measured (under overload a longer wait adds latency, not throughput).
    /// </summary>
    /// <value>Default: 250 ms.</value>
    public TimeSpan MaxQueueWait { get; set; } = AdaptiveConcurrencyConstants.DefaultMaxQueueWait;

    /// <summary>Gets or sets how much slower than its no-load latency the dependency may get before the limit shrinks.</summary>
    /// <value>Default: 1.25 (a 25 % rise is tolerated, as Envoy's default buffer); at least 1.</value>
    public double Tolerance { get; set; } = AdaptiveConcurrencyConstants.DefaultTolerance;

    /// <summary>Gets or sets how far each window moves the limit up toward its new estimate (a cut is applied at once).</summary>
    /// <value>Default: 0.5; above 0, at most 1.</value>
    public double Smoothing { get; set; } = AdaptiveConcurrencyConstants.DefaultSmoothing;

    /// <summary>Gets or sets the shortest window over which latency is averaged before the limit moves.</summary>
    /// <value>Default: 100 ms.</value>
    public TimeSpan SampleWindow { get; set; } = AdaptiveConcurrencyConstants.DefaultSampleWindow;

    /// <summary>
    /// Gets or sets how often the no-load latency is measured again: for a few calls the limit drops to
    /// <see cref="MinLimit"/>, and their latency is the new baseline (so a dependency whose base latency changed is
    /// followed, and an overloaded one cannot pass its inflated latency off as normal). The probe is skipped while latency
    /// is within <see cref="Tolerance"/> of the baseline: the baseline then still holds, and the probe would refuse calls.
    /// </summary>
    /// <value>Default: 30 s.</value>
    public TimeSpan BaselineInterval { get; set; } = AdaptiveConcurrencyConstants.DefaultBaselineInterval;

    /// <summary>Gets or sets the share of the limit that <see cref="CallPriority.Sheddable"/> calls may use; they never queue.</summary>
    /// <value>Default: 0.75, so a quarter of the capacity stays for normal and critical calls.</value>
    public double SheddableShare { get; set; } = AdaptiveConcurrencyConstants.DefaultSheddableShare;

    /// <summary>Gets or sets a callback told of every change of the limit (called on the thread that completed the window; keep it short).</summary>
    public Action<ConcurrencyLimitChangedArguments>? OnLimitChanged { get; set; }
}
