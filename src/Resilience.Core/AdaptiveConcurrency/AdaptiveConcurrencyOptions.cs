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
        PerAttempt = other.PerAttempt;
        ClassifyFailure = other.ClassifyFailure;
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

    /// <summary>
    /// Gets or sets a value indicating whether the limit applies to each attempt rather than to the whole call: inside the
    /// retry and hedging and outside the circuit breaker, so a retry's backoff holds no slot, each hedged copy takes one, the
    /// latency measured is one attempt's, and a refusal never reaches the breaker.
    /// </summary>
    /// <value>
    /// Default: <see langword="false"/>, the whole call: it waits for a slot once, outside the total timeout, and holds it through
    /// its retries. Per attempt suits a dependency whose capacity is a pool (connections): an attempt backing off frees its slot.
    /// A refusal is never retried either way (the queue already waited as long as it should). Each placement is its own slot of
    /// the order (<c>Describe()</c> names them <c>AdaptiveConcurrency</c> and <c>AdaptiveConcurrencyPerAttempt</c>), so a
    /// pipeline may hold one limit of each.
    /// </value>
    public bool PerAttempt { get; set; }

    /// <summary>
    /// Gets or sets what a failed call tells the limit: <see cref="CallEnd.Completed"/> (its latency is a sample),
    /// <see cref="CallEnd.TimedOut"/> (the dependency is overloaded: the limit shrinks) or <see cref="CallEnd.Ignored"/> (nothing,
    /// e.g. a connection refused fast by a dependency that is down). Asked only about failures of the dependency: the caller's
    /// cancellation and refusals by layers inside are always ignored.
    /// </summary>
    /// <value>Default: <see langword="null"/>, a <see cref="TimeoutException"/> (the pipeline's timeouts included) is a timeout and every other failure a sample.</value>
    public Func<Exception, CallEnd>? ClassifyFailure { get; set; }

    /// <summary>Gets or sets a callback told of every change of the limit (called on the thread that completed the window; keep it short).</summary>
    public Action<ConcurrencyLimitChangedArguments>? OnLimitChanged { get; set; }

    /// <summary>Whether two option sets hold the same values (callbacks aside), so a reload can keep a limiter and the limit it learned.</summary>
    internal static bool SameValues(AdaptiveConcurrencyOptions a, AdaptiveConcurrencyOptions b) =>
        a.InitialLimit == b.InitialLimit && a.MinLimit == b.MinLimit && a.MaxLimit == b.MaxLimit && a.QueueLimit == b.QueueLimit
        && a.MaxQueueWait == b.MaxQueueWait && a.Tolerance == b.Tolerance && a.Smoothing == b.Smoothing && a.SampleWindow == b.SampleWindow
        && a.BaselineInterval == b.BaselineInterval && a.SheddableShare == b.SheddableShare && a.PerAttempt == b.PerAttempt;
}
