using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.Cluster;

/// <summary>Source-generated log events of cluster coordination (IDs 4000–4099).</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(EventId = ResilienceEventIds.ClusterStoreLost, EventName = "ClusterStoreLost", Level = LogLevel.Warning,
        Message = "Cluster instance '{Instance}': the store did not answer; running on local state until it does")]
    public static partial void StoreLost(ILogger logger, Exception exception, string instance);

    [LoggerMessage(EventId = ResilienceEventIds.ClusterStoreBack, EventName = "ClusterStoreBack", Level = LogLevel.Information,
        Message = "Cluster instance '{Instance}' re-joined: {Live} live instance(s)")]
    public static partial void StoreBack(ILogger logger, string instance, int live);

    [LoggerMessage(EventId = ResilienceEventIds.ClusterBreakerOpened, EventName = "ClusterBreakerOpened", Level = LogLevel.Warning,
        Message = "Circuit '{BreakerName}' opened for the cluster: {Votes} of {Live} live instance(s) saw it fail")]
    public static partial void BreakerOpened(ILogger logger, string breakerName, int votes, int live);

    [LoggerMessage(EventId = ResilienceEventIds.ClusterProbeLeased, EventName = "ClusterProbeLeased", Level = LogLevel.Information,
        Message = "Circuit '{BreakerName}': instance '{Instance}' probes for the cluster (opening {Epoch})")]
    public static partial void ProbeLeased(ILogger logger, string breakerName, string instance, long epoch);
}
