namespace Resilience.Telemetry;

/// <content>Event IDs of cluster coordination (4000–4099).</content>
public static partial class ResilienceEventIds
{
    /// <summary>The cluster store stopped answering; every instance runs on local state (Warning).</summary>
    public const int ClusterStoreLost = 4000;

    /// <summary>The cluster store answers again; the instance re-joined (Information).</summary>
    public const int ClusterStoreBack = 4001;

    /// <summary>A quorum of instances saw a breaker fail, so it opened for the whole cluster (Warning).</summary>
    public const int ClusterBreakerOpened = 4002;

    /// <summary>This instance holds the one probe of a cluster-wide breaker's break (Information).</summary>
    public const int ClusterProbeLeased = 4003;
}
