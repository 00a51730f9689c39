using Npgsql;
using Resilience.Health;

namespace Resilience.Npgsql;

/// <summary>Fits the pool health thresholds to the pool's own acquire <c>Timeout</c>.</summary>
internal static class PoolHealthThresholds
{
    /// <summary>A caller waiting this share of the pool's <c>Timeout</c> is already in trouble: the pool is degraded.</summary>
    public const double WaitShareOfTimeout = 0.5;

    /// <summary>
    /// Returns <paramref name="configured"/> with the waiter and acquire-wait thresholds capped at half of the pool's
    /// <c>Timeout</c>: a 5 s "sustained" window could never see a caller of a pool that gives up after 2 s.
    /// </summary>
    public static PoolHealthOptions ForPool(PoolHealthOptions configured, string connectionString)
    {
        var timeoutSeconds = new NpgsqlConnectionStringBuilder(connectionString).Timeout;
        var share = timeoutSeconds > 0 ? TimeSpan.FromSeconds(timeoutSeconds * WaitShareOfTimeout) : TimeSpan.MaxValue;

        // A copy keeps which of the ping's limits were set and which are derived from the interval.
        var fitted = configured.Clone();
        fitted.WaitersSustainedFor = configured.WaitersSustainedFor < share ? configured.WaitersSustainedFor : share;
        fitted.AcquireWaitBudget = configured.AcquireWaitBudget < share ? configured.AcquireWaitBudget : share;
        return fitted;
    }
}
