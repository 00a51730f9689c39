using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.Health;

/// <summary>Log events of the pool health monitor (IDs 1500–1599).</summary>
internal static partial class PoolHealthLog
{
    [LoggerMessage(EventId = ResilienceEventIds.PoolHealthRecovered, EventName = "PoolHealthRecovered", Level = LogLevel.Information,
        Message = "Pool '{Name}' is healthy again (was {PreviousStatus}): {Reason}")]
    public static partial void Recovered(ILogger logger, string name, PoolHealthStatus previousStatus, string reason);

    [LoggerMessage(EventId = ResilienceEventIds.PoolHealthDegraded, EventName = "PoolHealthDegraded", Level = LogLevel.Warning,
        Message = "Pool '{Name}' is degraded (was {PreviousStatus}): {Reason}")]
    public static partial void Degraded(ILogger logger, string name, PoolHealthStatus previousStatus, string reason);

    [LoggerMessage(EventId = ResilienceEventIds.PoolHealthCritical, EventName = "PoolHealthCritical", Level = LogLevel.Error,
        Message = "Pool '{Name}' is critical (was {PreviousStatus}): {Reason}")]
    public static partial void Critical(ILogger logger, string name, PoolHealthStatus previousStatus, string reason);

    [LoggerMessage(EventId = ResilienceEventIds.PoolHealthCheckFailed, EventName = "PoolHealthCheckFailed", Level = LogLevel.Error,
        Message = "Pool '{Name}': the health check itself failed")]
    public static partial void CheckFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(EventId = ResilienceEventIds.PoolHealthStatusHandlerFailed, EventName = "PoolHealthStatusHandlerFailed", Level = LogLevel.Error,
        Message = "Pool '{Name}': a StatusChanged handler threw")]
    public static partial void HandlerFailed(ILogger logger, string name, Exception exception);
}
