using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.Fallback;

/// <summary>Source-generated log events of the fallback (IDs 1100–1199).</summary>
internal static partial class FallbackLog
{
    [LoggerMessage(EventId = ResilienceEventIds.FallbackStaleServed, EventName = "FallbackStaleServed", Level = LogLevel.Warning,
        Message = "Fallback '{FallbackName}' served a cached value {Age} old in place of a failed call.")]
    public static partial void StaleServed(ILogger logger, string fallbackName, TimeSpan age);

    [LoggerMessage(EventId = ResilienceEventIds.FallbackStaticServed, EventName = "FallbackStaticServed", Level = LogLevel.Warning,
        Message = "Fallback '{FallbackName}' served its static value in place of a failed call.")]
    public static partial void StaticServed(ILogger logger, string fallbackName);

    [LoggerMessage(EventId = ResilienceEventIds.FallbackUnavailable, EventName = "FallbackUnavailable", Level = LogLevel.Warning,
        Message = "Fallback '{FallbackName}' had no usable value; the original failure surfaces.")]
    public static partial void Unavailable(ILogger logger, Exception exception, string fallbackName);
}
