namespace Resilience.Failures;

/// <summary>Stable error identifiers shared by the adapters and the services built on them.</summary>
/// <remarks>These strings are part of the public contract: clients match on them, so they never change.</remarks>
public static class ErrorIds
{
    /// <summary>The request was malformed or failed validation.</summary>
    public const string Validation = "ERR_VALIDATION";

    /// <summary>The addressed item does not exist.</summary>
    public const string NotFound = "ERR_NOT_FOUND";

    /// <summary>An item with the same key already exists, or the change conflicts with current state.</summary>
    public const string AlreadyExists = "ERR_ALREADY_EXISTS";

    /// <summary>The database cannot serve now (down, pool exhausted, circuit open).</summary>
    public const string DatabaseUnavailable = "ERR_DB_UNAVAILABLE";

    /// <summary>An upstream service cannot serve now.</summary>
    public const string UpstreamUnavailable = "ERR_UPSTREAM_UNAVAILABLE";

    /// <summary>The operation ran out of time.</summary>
    public const string Timeout = "ERR_TIMEOUT";

    /// <summary>A circuit breaker is open and rejected the call without trying it.</summary>
    public const string CircuitOpen = "ERR_CIRCUIT_OPEN";

    /// <summary>A rate or concurrency limiter rejected the call.</summary>
    public const string RateLimited = "ERR_RATE_LIMITED";

    /// <summary>A write may or may not have taken effect; check before repeating it.</summary>
    public const string UnknownOutcome = "ERR_UNKNOWN_OUTCOME";

    /// <summary>The service is misconfigured (credentials, permissions).</summary>
    public const string Configuration = "ERR_CONFIGURATION";

    /// <summary>An unexpected error; the response carries nothing internal.</summary>
    public const string Internal = "ERR_INTERNAL";

    /// <summary>Returns the error ID that callers should see for a failure of <paramref name="kind"/>.</summary>
    /// <param name="kind">The failure kind.</param>
    /// <param name="dependencyIsDatabase">Whether the failing dependency is the database (picks <see cref="DatabaseUnavailable"/> over <see cref="UpstreamUnavailable"/>).</param>
    /// <returns>The stable error ID.</returns>
    public static string For(FailureKind kind, bool dependencyIsDatabase = false) => kind switch
    {
        FailureKind.Timeout => Timeout,
        FailureKind.Transient or FailureKind.Unavailable => dependencyIsDatabase ? DatabaseUnavailable : UpstreamUnavailable,
        FailureKind.Conflict => AlreadyExists,
        FailureKind.NotFound => NotFound,
        FailureKind.InvalidInput => Validation,
        FailureKind.Configuration => Configuration,
        FailureKind.UnknownOutcome => UnknownOutcome,
        _ => Internal,
    };
}
