namespace Resilience.Telemetry;

/// <content>Event IDs of retry (1200–1299).</content>
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
}
