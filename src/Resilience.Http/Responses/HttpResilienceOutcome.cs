namespace Resilience.Http;

/// <summary>What the resilience handler did instead of returning the upstream's own response.</summary>
public enum HttpResilienceOutcome
{
    /// <summary>The response came from the upstream server.</summary>
    None = 0,

    /// <summary>A stored earlier response was served because the upstream failed; it carries an <c>Age</c> header.</summary>
    Stale,

    /// <summary>The circuit of the authority was open: the request was not sent.</summary>
    CircuitOpen,

    /// <summary>Every attempt failed transiently and no retry was left.</summary>
    RetriesExhausted,

    /// <summary>A retry was due but the retry budget of the dependency was empty.</summary>
    RetryBudgetExhausted,

    /// <summary>The server asked to wait (<c>Retry-After</c>) longer than the maximum delay or the time left allows.</summary>
    RetryAfterExceedsDeadline,

    /// <summary>
    /// The total timeout (<see cref="HttpResilienceOptions.TotalTimeout"/>) ran out before any attempt succeeded; reported as a
    /// <c>504 Gateway Timeout</c> (no <c>Retry-After</c>) or as an exception whose inner exception is the timeout.
    /// </summary>
    TimedOut,
}
