namespace Resilience.Telemetry;

/// <content>Event IDs of pool health (1500–1599).</content>
public static partial class ResilienceEventIds
{
    /// <summary>A pool's health returned to healthy (Information).</summary>
    public const int PoolHealthRecovered = 1500;

    /// <summary>A pool's health changed to degraded (Warning).</summary>
    public const int PoolHealthDegraded = 1501;

    /// <summary>A pool's health changed to critical (Error).</summary>
    public const int PoolHealthCritical = 1502;

    /// <summary>A pool probe failed to deliver its figures, or a scheduled check failed unexpectedly (Error).</summary>
    public const int PoolHealthCheckFailed = 1503;

    /// <summary>A handler of the status-changed event threw; the monitor carries on (Error).</summary>
    public const int PoolHealthStatusHandlerFailed = 1504;
}
