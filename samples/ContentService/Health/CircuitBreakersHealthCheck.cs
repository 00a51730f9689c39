using Microsoft.Extensions.Diagnostics.HealthChecks;
using Resilience.CircuitBreaking;

namespace ContentService.Health;

/// <summary>Degraded while any breaker is not closed: the service still answers (fallbacks, fast failures), but a dependency is out.</summary>
internal sealed class CircuitBreakersHealthCheck(CircuitBreakerRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var notClosed = 0;
        foreach (var status in registry.GetStatusReport())
        {
            data[status.Name] = status.State.ToString();
            if (status.State != CircuitState.Closed)
            {
                notClosed++;
            }
        }

        return Task.FromResult(notClosed == 0
            ? HealthCheckResult.Healthy($"{data.Count} circuit breakers closed", data)
            : HealthCheckResult.Degraded($"{notClosed} of {data.Count} circuit breakers not closed", data: data));
    }
}
