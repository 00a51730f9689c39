namespace Resilience.Health;

/// <summary>The health of a connection pool, from best to worst.</summary>
public enum PoolHealthStatus
{
    /// <summary>No queueing, pings succeed in time.</summary>
    Healthy = 0,

    /// <summary>Callers queue for connections, acquire waits exceed the budget, or a ping was slow or failed.</summary>
    Degraded = 1,

    /// <summary>Acquire attempts time out, or pings fail repeatedly: the dependency cannot serve.</summary>
    Critical = 2,
}
