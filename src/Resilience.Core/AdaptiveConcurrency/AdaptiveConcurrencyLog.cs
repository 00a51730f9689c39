using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.AdaptiveConcurrency;

/// <summary>Source-generated log events of the adaptive concurrency limit (IDs 1800–1899).</summary>
internal static partial class AdaptiveConcurrencyLog
{
    // Debug: the limit moves every window under load, and refusals come in bursts; the gauges and the counter carry the trend.
    [LoggerMessage(EventId = ResilienceEventIds.ConcurrencyLimitChanged, EventName = "ConcurrencyLimitChanged", Level = LogLevel.Debug,
        Message = "Concurrency limit of '{Name}' moved from {PreviousLimit} to {Limit} (latency {LatencyMs} ms against {BaselineMs} ms without load, {InFlight} in flight)")]
    public static partial void LimitChanged(ILogger logger, string name, int previousLimit, int limit, double latencyMs, double baselineMs, int inFlight);

    [LoggerMessage(EventId = ResilienceEventIds.ConcurrencyLimitRejected, EventName = "ConcurrencyLimitRejected", Level = LogLevel.Debug,
        Message = "Concurrency limit of '{Name}' ({Limit}) refused a {Priority} call: {Reason}")]
    public static partial void Rejected(ILogger logger, string name, int limit, CallPriority priority, string reason);

    [LoggerMessage(EventId = ResilienceEventIds.ConcurrencyLimitCallbackFailed, EventName = "ConcurrencyLimitCallbackFailed", Level = LogLevel.Error,
        Message = "The {Callback} callback of concurrency limit '{Name}' threw; {Consequence}")]
    public static partial void CallbackFailed(ILogger logger, string callback, string name, string consequence, Exception exception);
}
