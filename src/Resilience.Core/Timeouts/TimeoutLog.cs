using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.Timeouts;

/// <summary>Source-generated log events of timeouts and deadlines (IDs 1300–1399).</summary>
internal static partial class TimeoutLog
{
    [LoggerMessage(EventId = ResilienceEventIds.TimeoutOccurred, EventName = "TimeoutOccurred", Level = LogLevel.Warning,
        Message = "The {Kind} timeout of '{Name}' ({TimeoutMs} ms) fired")]
    public static partial void TimeoutOccurred(ILogger logger, string kind, string name, double timeoutMs);

    [LoggerMessage(EventId = ResilienceEventIds.DeadlineExceeded, EventName = "DeadlineExceeded", Level = LogLevel.Error,
        Message = "'{Name}' ran past its deadline of {Limit}; its work was cancelled")]
    public static partial void DeadlineExceeded(ILogger logger, string name, TimeSpan limit);

    [LoggerMessage(EventId = ResilienceEventIds.DeadlineWorkDidNotStop, EventName = "DeadlineWorkDidNotStop", Level = LogLevel.Critical,
        Message = "'{Name}' did not stop within {GracePeriod} after its deadline cancelled it; it is still running")]
    public static partial void DeadlineWorkDidNotStop(ILogger logger, string name, TimeSpan gracePeriod);
}
