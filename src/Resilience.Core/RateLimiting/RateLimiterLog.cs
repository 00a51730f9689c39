using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.RateLimiting;

/// <summary>Source-generated log events of the rate limiter (IDs 1400–1499).</summary>
internal static partial class RateLimiterLog
{
    [LoggerMessage(EventId = ResilienceEventIds.RateLimiterRejected, EventName = "RateLimiterRejected", Level = LogLevel.Warning,
        Message = "Rate limiter '{Name}' rejected a call (retry after: {RetryAfter})")]
    public static partial void RateLimiterRejected(ILogger logger, string name, TimeSpan? retryAfter);
}
