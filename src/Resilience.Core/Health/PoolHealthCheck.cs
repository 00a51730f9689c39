using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Resilience.Health;

/// <summary>Exposes a <see cref="PoolHealthMonitor"/> as an ASP.NET Core health check.</summary>
/// <remarks>
/// Healthy → <see cref="HealthStatus.Healthy"/>, degraded → <see cref="HealthStatus.Degraded"/>, critical → the registration's
/// failure status (<see cref="HealthStatus.Unhealthy"/> by default). The latest report is returned without I/O while it is
/// younger than <see cref="PoolHealthOptions.MaxReportAge"/>; an older one (or none yet) makes the health check run a check
/// now, so it never serves a stale report. The report's figures are the result's data.
/// </remarks>
public sealed class PoolHealthCheck : IHealthCheck
{
    private readonly PoolHealthMonitor _monitor;

    /// <summary>Creates the health check.</summary>
    /// <param name="monitor">The monitor whose latest report is returned.</param>
    public PoolHealthCheck(PoolHealthMonitor monitor)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        _monitor = monitor;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var report = await _monitor.GetFreshReportAsync(cancellationToken).ConfigureAwait(false);
        var data = ToData(report);
        return report.Status switch
        {
            PoolHealthStatus.Healthy => HealthCheckResult.Healthy(report.Reason, data),
            PoolHealthStatus.Degraded => HealthCheckResult.Degraded(report.Reason, data: data),
            _ => new HealthCheckResult(context.Registration?.FailureStatus ?? HealthStatus.Unhealthy, report.Reason, data: data),
        };
    }

    internal static Dictionary<string, object> ToData(PoolHealthReport report)
    {
        var snapshot = report.Snapshot;
        var data = new Dictionary<string, object>(12, StringComparer.Ordinal)
        {
            ["status"] = report.Status.ToString(),
            ["reason"] = report.Reason,
            ["checkedAt"] = report.CheckedAt.ToString("O", CultureInfo.InvariantCulture),
            ["utilization"] = report.Utilization,
            ["maxSize"] = snapshot.MaxSize,
            ["busy"] = snapshot.Busy,
            ["idle"] = snapshot.Idle,
            ["waiters"] = snapshot.Waiters,
            ["acquireTimeouts"] = snapshot.AcquireTimeouts,
            ["consecutivePingFailures"] = report.ConsecutivePingFailures,
        };
        if (report.PingDuration is { } ping)
        {
            data["pingMs"] = ping.TotalMilliseconds;
        }

        if (snapshot.P99AcquireWait is { } wait)
        {
            data["p99AcquireWaitMs"] = wait.TotalMilliseconds;
        }

        return data;
    }
}
