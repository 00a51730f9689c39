using Resilience.AdaptiveConcurrency;
using Resilience.Failures;
using Resilience.Timeouts;

namespace Resilience.Npgsql;

/// <summary>The adaptive concurrency limit in front of the data source's pool: how many attempts may hold a connection at once.</summary>
/// <remarks>
/// <para>Each attempt takes a slot before it takes a pooled connection (Core's limit placed per attempt, inside the retry and
/// outside the breaker: a retry's backoff holds no slot, and a refusal never reaches the breaker). The limit starts at the pool's size and shrinks when
/// the database's latency grows under load (Core's <see cref="AdaptiveConcurrencyLimiter"/>), so an overloaded database is
/// relieved at the client. An attempt that finds the limit reached waits at most <see cref="MaxQueueWait"/> in a short queue
/// (critical calls first) instead of the pool's acquire timeout (<c>Timeout</c>, 15 s by default), then fails with a
/// <see cref="DatabaseException"/> of kind <see cref="Failures.FailureKind.Unavailable"/> (<c>ERR_DB_UNAVAILABLE</c>) whose
/// inner exception is the <see cref="ConcurrencyLimitRejectedException"/> and whose <see cref="DatabaseException.RetryAfter"/>
/// is the database's recent latency. Such a refusal is not retried (nothing was sent) and does not count for the breaker.</para>
/// <para>Mark calls with <see cref="DbCallOptions.Priority"/>: sheddable ones use at most <see cref="SheddableShare"/> of the
/// limit and never wait; critical ones (health checks, writes that must land) go to the front of the queue.</para>
/// </remarks>
public sealed class NpgsqlConcurrencyLimitOptions
{
    /// <summary>Gets or sets a value indicating whether attempts pass the adaptive limit.</summary>
    /// <value>
    /// Defaults to <see langword="false"/>: on by default, the chaos suite's open-loop run with terminated backends failed
    /// 438 writes where the usual stack failed none (2026-12-07): the retries of a blip's calls overflowed a queue of one
    /// pool's worth. Turn it on for a database that slows down under load rather than one that blips.
    /// </value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the highest the limit goes.</summary>
    /// <value>Defaults to <see langword="null"/>: the pool's <c>Maximum Pool Size</c> (more attempts at once would only queue in the pool). When set: 1 to 1,000,000.</value>
    public int? MaxLimit { get; set; }

    /// <summary>Gets or sets the lowest the limit goes, however slow the database gets.</summary>
    /// <value>Defaults to <see langword="null"/>: a tenth of <see cref="MaxLimit"/> (at least 1), so a slow spell never starves the service.</value>
    public int? MinLimit { get; set; }

    /// <summary>Gets or sets the limit before the first measurement.</summary>
    /// <value>Defaults to <see langword="null"/>: <see cref="MaxLimit"/>.</value>
    public int? InitialLimit { get; set; }

    /// <summary>Gets or sets how many attempts may wait for a slot; beyond it an attempt is refused at once.</summary>
    /// <value>Defaults to <see langword="null"/>: <see cref="MaxLimit"/> (one pool's worth).</value>
    public int? QueueLimit { get; set; }

    /// <summary>Gets or sets the longest an attempt waits for a slot.</summary>
    /// <value>Defaults to 1 s, and never more than half the pool's acquire timeout; between 0 and 1 minute.</value>
    public TimeSpan MaxQueueWait { get; set; } = NpgsqlResilienceConstants.DefaultMaxQueueWait;

    /// <summary>Gets or sets how much slower than its no-load latency the database may get before the limit shrinks.</summary>
    /// <value>Defaults to 2 (a database's latency varies with its mix of queries more than a service's); between 1 and 10.</value>
    public double Tolerance { get; set; } = NpgsqlResilienceConstants.DefaultConcurrencyTolerance;

    /// <summary>Gets or sets the share of the limit sheddable calls may use.</summary>
    /// <value>Defaults to 0.75; above 0, at most 1.</value>
    public double SheddableShare { get; set; } = AdaptiveConcurrencyConstants.DefaultSheddableShare;

    /// <summary>The Core options for a pool of <paramref name="maxPoolSize"/> connections whose acquire timeout is <paramref name="acquireTimeoutSeconds"/> (0: none).</summary>
    internal AdaptiveConcurrencyOptions Resolve(int maxPoolSize, int acquireTimeoutSeconds)
    {
        var max = MaxLimit ?? Math.Max(1, maxPoolSize);
        var wait = MaxQueueWait;
        if (acquireTimeoutSeconds > 0 && wait > TimeSpan.FromSeconds(acquireTimeoutSeconds) / 2)
        {
            // Refused before the pool would have: the point of the limit.
            wait = TimeSpan.FromSeconds(acquireTimeoutSeconds) / 2;
        }

        return new AdaptiveConcurrencyOptions
        {
            MaxLimit = max,
            MinLimit = MinLimit ?? Math.Max(1, max / 10),
            InitialLimit = InitialLimit ?? max,
            QueueLimit = QueueLimit ?? max,
            MaxQueueWait = wait,
            Tolerance = Tolerance,
            SheddableShare = SheddableShare,
            PerAttempt = true,
            ClassifyFailure = Classify,
        };
    }

    /// <summary>
    /// What a failed attempt tells the limit: a shrink when it timed out or the pool ran dry; nothing when the database was
    /// unreachable (a refused connection is fast, and its speed says nothing about load) or the outcome is unknown; its
    /// latency for the database's own errors.
    /// </summary>
    internal static CallEnd Classify(Exception failure) => failure switch
    {
        DatabaseException { FailureKind: FailureKind.Timeout } => CallEnd.TimedOut,
        DatabaseException { InnerException: { } inner } when PostgresFailureClassifier.IsPoolExhausted(inner) => CallEnd.TimedOut,
        DatabaseException { FailureKind: FailureKind.Unavailable or FailureKind.UnknownOutcome } => CallEnd.Ignored,
        OperationTimeoutException or TimeoutException => CallEnd.TimedOut,
        _ => CallEnd.Completed,
    };
}
