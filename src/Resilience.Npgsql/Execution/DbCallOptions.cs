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
    /// an upsert. A non-idempotent call reports that case as <see cref="Resilience.Failures.FailureKind.UnknownOutcome"/>.
    /// </remarks>
    public bool IsIdempotent { get; init; }

    /// <summary>Gets the time limits of this call.</summary>
    /// <value>Defaults to <see langword="null"/>: the data source's <see cref="NpgsqlResilienceOptions.QueryTimeouts"/>.</value>
    public QueryTimeoutOptions? Timeouts { get; init; }
}
