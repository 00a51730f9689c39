namespace Resilience.Health;

/// <summary>Reads a connection pool's figures and pings the server behind it, for <see cref="PoolHealthMonitor"/>.</summary>
/// <remarks>
/// Adapters implement it (e.g. <c>Resilience.Npgsql</c>'s <c>NpgsqlPoolProbe</c>). <see cref="GetSnapshot"/> must be cheap and
/// must not touch the network; <see cref="PingAsync"/> should not draw from the monitored pool, so that "pool saturated"
/// and "server down" stay distinguishable.
/// </remarks>
public interface IPoolProbe
{
    /// <summary>Returns the pool's current figures without any I/O.</summary>
    /// <returns>The snapshot.</returns>
    PoolSnapshot GetSnapshot();

    /// <summary>Runs a trivial round trip to the server.</summary>
    /// <param name="cancellationToken">Cancels the ping; the monitor cancels it after <see cref="PoolHealthOptions.PingTimeout"/>.</param>
    /// <returns>How long the round trip took.</returns>
    /// <exception cref="Exception">The ping failed (any exception counts as a failed ping).</exception>
    ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken);
}
