using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.CircuitBreaking;

/// <summary>Source-generated log events of the circuit breaker (IDs 1000–1099).</summary>
internal static partial class CircuitBreakerLog
{
    public static void Transition(ILogger logger, in CircuitStateChange change)
    {
        switch (change.To)
        {
            case CircuitState.Open:
                Opened(logger, change.Exception, change.BreakerName, change.From, change.Reason, change.BreakDuration);
                break;
            case CircuitState.HalfOpen:
                HalfOpened(logger, change.BreakerName);
                break;
            case CircuitState.Closed:
                Closed(logger, change.BreakerName, change.From, change.Reason);
                break;
            default:
                Isolated(logger, change.BreakerName, change.From);
                break;
        }
    }

    [LoggerMessage(EventId = ResilienceEventIds.CircuitOpened, EventName = "CircuitOpened", Level = LogLevel.Warning,
        Message = "Circuit '{BreakerName}' opened from {FromState} ({Reason}); calls are rejected for {BreakDuration}.")]
    private static partial void Opened(ILogger logger, Exception? exception, string breakerName, CircuitState fromState, CircuitTransitionReason reason, TimeSpan breakDuration);

    [LoggerMessage(EventId = ResilienceEventIds.CircuitHalfOpened, EventName = "CircuitHalfOpened", Level = LogLevel.Information,
        Message = "Circuit '{BreakerName}' is half-open; probing the dependency.")]
    private static partial void HalfOpened(ILogger logger, string breakerName);

    [LoggerMessage(EventId = ResilienceEventIds.CircuitClosed, EventName = "CircuitClosed", Level = LogLevel.Information,
        Message = "Circuit '{BreakerName}' closed from {FromState} ({Reason}).")]
    private static partial void Closed(ILogger logger, string breakerName, CircuitState fromState, CircuitTransitionReason reason);

    [LoggerMessage(EventId = ResilienceEventIds.CircuitIsolated, EventName = "CircuitIsolated", Level = LogLevel.Warning,
        Message = "Circuit '{BreakerName}' isolated from {FromState}; calls are rejected until it is reset.")]
    private static partial void Isolated(ILogger logger, string breakerName, CircuitState fromState);

    [LoggerMessage(EventId = ResilienceEventIds.CircuitProbeAbandoned, EventName = "CircuitProbeAbandoned", Level = LogLevel.Warning,
        Message = "Circuit '{BreakerName}': {Probes} probe(s) did not report within {ProbeTimeout}; they are abandoned and new probes admitted.")]
    public static partial void ProbeAbandoned(ILogger logger, string breakerName, int probes, TimeSpan probeTimeout);

    [LoggerMessage(EventId = ResilienceEventIds.CircuitStateChangedCallbackFailed, EventName = "CircuitStateChangedCallbackFailed", Level = LogLevel.Error,
        Message = "The state-change callback of circuit '{BreakerName}' threw; the state change stands.")]
    public static partial void StateChangedCallbackFailed(ILogger logger, Exception exception, string breakerName);
}
