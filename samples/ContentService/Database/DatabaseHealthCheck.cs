using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace ContentService.Database;

/// <summary>Ready when the database answers a trivial query within the health-check budget.</summary>
internal sealed class DatabaseHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy("database answers");
        }
        catch (NpgsqlException e)
        {
            // The exception goes to the health-check log, not into the public response.
            return HealthCheckResult.Unhealthy("database unreachable", e);
        }
    }
}
