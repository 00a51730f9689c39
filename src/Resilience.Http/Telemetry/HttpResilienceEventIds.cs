namespace Resilience.Http;

/// <summary>Stable IDs of the HTTP adapter's log events (range 3000–3099), so log queries never break.</summary>
/// <remarks>
/// A class of its own because <c>Resilience.Telemetry.ResilienceEventIds</c> is a partial class of another assembly.
/// IDs are never reused or renumbered.
/// </remarks>
public static class HttpResilienceEventIds
{
    /// <summary>A transient failure will be retried after a delay.</summary>
    public const int RetryScheduled = 3000;

    /// <summary>A transient failure was not retried because the request is not safe to repeat (method, no key, no opt-in).</summary>
    public const int RetryNotAllowed = 3001;

    /// <summary>A request body is larger than the buffering limit; the request is sent once and not retried.</summary>
    public const int ContentNotResendable = 3002;

    /// <summary>A request was rejected without being sent because the authority's circuit is open.</summary>
    public const int CircuitOpenRejected = 3003;

    /// <summary>A stored earlier response was served because the upstream failed.</summary>
    public const int StaleResponseServed = 3004;

    /// <summary>The server's <c>Retry-After</c> is longer than the maximum delay or the time left; the request failed at once.</summary>
    public const int RetryAfterExceedsDeadline = 3005;

    /// <summary>Every attempt failed and no retry was left.</summary>
    public const int RetriesExhausted = 3006;

    /// <summary>An attempt ran out of its attempt timeout.</summary>
    public const int AttemptTimedOut = 3007;

    /// <summary>An authority with a closed breaker was forgotten because more authorities than the limit were tracked.</summary>
    public const int AuthorityEvicted = 3008;

    /// <summary>A retry was due but the retry budget was empty.</summary>
    public const int RetryBudgetExhausted = 3009;

    /// <summary>The total timeout ran out before an attempt succeeded.</summary>
    public const int TimedOut = 3010;

    /// <summary>Attempts were sent and failed, and the circuit is now open: no further retry is made (the request may have reached the server).</summary>
    public const int RetriesStoppedByOpenCircuit = 3011;

    /// <summary>An authority was forgotten while its circuit was not closed, because every tracked authority had such a circuit.</summary>
    public const int OpenBreakerForgotten = 3012;

    /// <summary>A client's handler could not be rebuilt from its reloaded options; the options in force stay (Warning).</summary>
    public const int ReloadFailed = 3013;
}
