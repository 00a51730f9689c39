using Resilience.AdaptiveConcurrency;

namespace Resilience.Npgsql;

/// <summary>Per-call settings of <see cref="ResilientDataSource"/>: whether the call may be repeated, and its time limits.</summary>
/// <remarks>A value type, so passing it costs nothing; <c>default</c> means "not idempotent, the data source's time limits".</remarks>
public readonly record struct DbCallOptions
{
    /// <summary>Gets settings for a call that has the same effect however often it runs.</summary>
    public static DbCallOptions Idempotent => new() { IsIdempotent = true };

    /// <summary>Gets a value indicating whether running the call twice has the same effect as running it once.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    /// <remarks>
    /// Only an idempotent call is retried when the connection fails while its <c>COMMIT</c> is in flight (the server may have
    /// committed). Reads are idempotent; so are writes keyed by a client-generated key with <c>ON CONFLICT DO NOTHING</c> or
    /// an upsert. A non-idempotent call asks the server what became of its transaction and reports
    /// <see cref="Resilience.Failures.FailureKind.UnknownOutcome"/> when it cannot tell. Under the connection's default limits an
    /// idempotent call runs without a transaction of ours (each statement commits by itself, one round trip each): run several
    /// statements that must see one snapshot or commit together with <c>InTransactionAsync</c>.
    /// </remarks>
    public bool IsIdempotent { get; init; }

    /// <summary>Gets a value indicating whether the call runs without a transaction of ours, each statement committing by itself.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    /// <remarks>
    /// For statements that cannot run inside a transaction (<c>CREATE INDEX CONCURRENTLY</c>, <c>VACUUM</c>, <c>CREATE DATABASE</c>),
    /// which fail with 25001 otherwise. What it gives up: several statements commit one by one (no rollback of the earlier ones);
    /// a call not marked <see cref="IsIdempotent"/> is not retried once its statement was sent, since it may have taken effect
    /// (a lost connection is <see cref="Resilience.Failures.FailureKind.UnknownOutcome"/>); limits that differ from the
    /// connection's are set for the session and reset afterwards (a round trip each). Only for <c>ExecuteAsync</c>/<c>Execute</c>.
    /// </remarks>
    public bool WithoutTransaction { get; init; }

    /// <summary>Gets the time limits of this call.</summary>
    /// <value>Defaults to <see langword="null"/>: the data source's <see cref="NpgsqlResilienceOptions.QueryTimeouts"/>.</value>
    public QueryTimeoutOptions? Timeouts { get; init; }

    /// <summary>Gets how much the call matters when the database is short of capacity (<see cref="NpgsqlResilienceOptions.ConcurrencyLimit"/>).</summary>
    /// <value>Defaults to <see cref="CallPriority.Normal"/>.</value>
    /// <remarks>
    /// <see cref="CallPriority.Sheddable"/> calls (a prefetch, a report) use at most <see cref="NpgsqlConcurrencyLimitOptions.SheddableShare"/>
    /// of the limit and never wait for a slot; <see cref="CallPriority.Critical"/> calls (a health check, a write that must land)
    /// go to the front of the queue, so they keep capacity while the others are refused.
    /// </remarks>
    public CallPriority Priority { get; init; }
}
