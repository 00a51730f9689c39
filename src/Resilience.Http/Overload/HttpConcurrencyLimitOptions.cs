using Resilience.AdaptiveConcurrency;

namespace Resilience.Http;

/// <summary>Options of the adaptive concurrency limit of each authority (Core's <see cref="AdaptiveConcurrencyLimiter"/>, one per authority).</summary>
/// <remarks>
/// <para>The limit follows the upstream's latency: it shrinks when the upstream slows down under load and grows while its
/// latency holds, between <see cref="MinLimit"/> and <see cref="MaxLimit"/>. A request over the limit waits in a short queue
/// (at most <see cref="MaxQueueWait"/>, less when the total timeout says so) and is otherwise not sent: it ends with
/// <see cref="HttpResilienceOutcome.ConcurrencyLimited"/> (a 503 with <c>Retry-After</c>, or the exception surface).</para>
/// <para>Mark a request critical or sheddable with <see cref="HttpResilienceRequestOptions.Priority"/>: sheddable requests
/// use at most <see cref="SheddableShare"/> of the limit and never queue, critical ones go to the front of the queue.</para>
/// </remarks>
public sealed class HttpConcurrencyLimitOptions
{
    /// <summary>Gets or sets a value indicating whether each authority's requests pass an adaptive concurrency limit.</summary>
    /// <value>
    /// Defaults to <see langword="false"/>: a client's concurrency is often a burst it means to send (a fan-out), which a limit
    /// still growing from <see cref="InitialLimit"/> would refuse; turn it on for upstreams that slow down under load.
    /// </value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the limit before the first measurement.</summary>
    /// <value>Defaults to 8 (it grows within a few windows when requests press it); between <see cref="MinLimit"/> and <see cref="MaxLimit"/>.</value>
    public int InitialLimit { get; set; } = AdaptiveConcurrencyConstants.DefaultInitialLimit;

    /// <summary>Gets or sets the lowest the limit goes.</summary>
    /// <value>Defaults to 2; at least 1.</value>
    public int MinLimit { get; set; } = AdaptiveConcurrencyConstants.DefaultMinLimit;

    /// <summary>Gets or sets the highest the limit goes.</summary>
    /// <value>Defaults to 1,000; at most 1,000,000.</value>
    public int MaxLimit { get; set; } = AdaptiveConcurrencyConstants.DefaultMaxLimit;

    /// <summary>Gets or sets how many requests may wait for a slot; beyond it a request is refused at once.</summary>
    /// <value>Defaults to 16; 0 refuses at once.</value>
    public int QueueLimit { get; set; } = AdaptiveConcurrencyConstants.DefaultQueueLimit;

    /// <summary>Gets or sets the longest a request waits for a slot.</summary>
    /// <value>Defaults to 250 ms.</value>
    public TimeSpan MaxQueueWait { get; set; } = AdaptiveConcurrencyConstants.DefaultMaxQueueWait;

    /// <summary>Gets or sets how much slower than its no-load latency the upstream may get before the limit shrinks.</summary>
    /// <value>Defaults to 1.25 (a 25 % rise is tolerated); between 1 and 10.</value>
    public double Tolerance { get; set; } = AdaptiveConcurrencyConstants.DefaultTolerance;

    /// <summary>Gets or sets how far each window moves the limit toward its new estimate.</summary>
    /// <value>Defaults to 0.5; above 0, at most 1.</value>
    public double Smoothing { get; set; } = AdaptiveConcurrencyConstants.DefaultSmoothing;

    /// <summary>Gets or sets the shortest window over which latency is averaged before the limit moves.</summary>
    /// <value>Defaults to 100 ms.</value>
    public TimeSpan SampleWindow { get; set; } = AdaptiveConcurrencyConstants.DefaultSampleWindow;

    /// <summary>Gets or sets how often the no-load latency is measured again (the limit drops to <see cref="MinLimit"/> for a few requests).</summary>
    /// <value>Defaults to 30 s.</value>
    public TimeSpan BaselineInterval { get; set; } = AdaptiveConcurrencyConstants.DefaultBaselineInterval;

    /// <summary>Gets or sets the share of the limit sheddable requests may use.</summary>
    /// <value>Defaults to 0.75; above 0, at most 1.</value>
    public double SheddableShare { get; set; } = AdaptiveConcurrencyConstants.DefaultSheddableShare;

    /// <summary>The Core options these values make (validated by Core's rules).</summary>
    internal AdaptiveConcurrencyOptions ToCore() => new()
    {
        InitialLimit = InitialLimit,
        MinLimit = MinLimit,
        MaxLimit = MaxLimit,
        QueueLimit = QueueLimit,
        MaxQueueWait = MaxQueueWait,
        Tolerance = Tolerance,
        Smoothing = Smoothing,
        SampleWindow = SampleWindow,
        BaselineInterval = BaselineInterval,
        SheddableShare = SheddableShare,
    };

    /// <summary>Whether two Core option sets hold the same values, so a reload can keep the limiter (and the limit it learned).</summary>
    internal static bool SameSettings(AdaptiveConcurrencyOptions a, AdaptiveConcurrencyOptions b) =>
        a.InitialLimit == b.InitialLimit && a.MinLimit == b.MinLimit && a.MaxLimit == b.MaxLimit && a.QueueLimit == b.QueueLimit
        && a.MaxQueueWait == b.MaxQueueWait && a.Tolerance == b.Tolerance && a.Smoothing == b.Smoothing && a.SampleWindow == b.SampleWindow
        && a.BaselineInterval == b.BaselineInterval && a.SheddableShare == b.SheddableShare;
}
