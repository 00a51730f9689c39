using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.AdaptiveThrottling;

/// <summary>Source-generated log events of adaptive throttling (IDs 1900–1999).</summary>
internal static partial class AdaptiveThrottlingLog
{
    // Debug: under overload this fires for a share of all requests; the counter carries the trend.
    [LoggerMessage(EventId = ResilienceEventIds.RequestThrottled, EventName = "RequestThrottled", Level = LogLevel.Debug,
        Message = "'{Name}' refused a request locally (refusing {Probability:P0} while the dependency accepts too few)")]
    public static partial void Throttled(ILogger logger, string name, double probability);
}
