namespace Resilience.Telemetry;

/// <content>Event IDs of the rate limiter (1400–1499).</content>
public static partial class ResilienceEventIds
{
    /// <summary>The rate limiter rejected a call (Warning).</summary>
    public const int RateLimiterRejected = 1400;
}
