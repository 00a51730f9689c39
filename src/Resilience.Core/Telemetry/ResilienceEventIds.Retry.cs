namespace Resilience.Telemetry;

/// <content>Event IDs of retry (1200–1299), timeouts (1300–1399) and the rate limiter (1400–1499).</content>
public static partial class ResilienceEventIds
{
    /// <summary>A failed attempt will be retried after a delay (Information).</summary>
    public const int RetryScheduled = 1200;

    /// <summary>A call failed after using every allowed retry (Warning).</summary>
    public const int RetriesExhausted = 1201;

    /// <summary>A retry was refused because the retry budget was empty (Warning).</summary>
    public const int RetryBudgetExhausted = 1202;

    /// <summary>Retries stopped because the next delay would end past the deadline; the last failure surfaced (Warning).</summary>
    public const int RetriesStoppedByDeadline = 1203;

    /// <summary>A Retry-After hint was shorter than the backoff (zero and negative included) or longer than the maximum delay, so it was not used as is (Information).</summary>
    public const int RetryAfterAdjusted = 1204;

    /// <summary>An attempt or total timeout fired (Warning).</summary>
    public const int TimeoutOccurred = 1300;

    /// <summary>A background task ran past its deadline and was cancelled (Error).</summary>
    public const int DeadlineExceeded = 1301;

    /// <summary>A background task did not stop within the grace period after its deadline cancelled it (Critical).</summary>
    public const int DeadlineWorkDidNotStop = 1302;

    /// <summary>The rate limiter rejected a call (Warning).</summary>
    public const int RateLimiterRejected = 1400;
}
