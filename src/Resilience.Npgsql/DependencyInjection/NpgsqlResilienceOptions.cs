using Resilience.Health;

namespace Resilience.Npgsql;

/// <summary>Settings of the PostgreSQL adapter registered by <c>AddNpgsqlResilience</c>, bound from one configuration section.</summary>
/// <remarks>Configuration keys: <c>Name</c>, <c>QueryTimeouts:*</c> (<see cref="QueryTimeoutOptions"/>), <c>PoolHealth:*</c> (<see cref="PoolHealthOptions"/>).</remarks>
public sealed class NpgsqlResilienceOptions
{
    /// <summary>Gets or sets the pool's name: the Npgsql data source name, the monitor's name and the health check's name prefix.</summary>
    /// <value>Defaults to <c>postgres</c>.</value>
    public string Name { get; set; } = "postgres";

    /// <summary>Gets the default time limits of each call.</summary>
    public QueryTimeoutOptions QueryTimeouts { get; } = new();

    /// <summary>Gets the pool health thresholds and check interval.</summary>
    public PoolHealthOptions PoolHealth { get; } = new();
}
