using ContentService.Providers;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Http;
using Resilience.Npgsql;

namespace ContentService.Health;

/// <summary>
/// Every breaker's state. Unhealthy (readiness 503) when the service cannot do its job: the database's breaker is
/// open, or every LLM provider's is. Degraded while any other breaker is not closed: the service still answers
/// (fail-over, fallbacks, fast failures), but a dependency is out. A provider not called yet has no breaker: it counts
/// as available (its first call decides).
/// </summary>
internal sealed class CircuitBreakersHealthCheck(CircuitBreakerRegistry registry, IOptions<NpgsqlResilienceOptions> database, IOptions<ProvidersOptions> providers) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        int notClosed = 0, llmOpen = 0;
        var databaseOpen = false;
        foreach (var status in registry.GetStatusReport())
        {
            data[status.Name] = status.State.ToString();
            var open = status.State is CircuitState.Open or CircuitState.Isolated;
            if (status.State != CircuitState.Closed)
            {
                notClosed++;
            }

            if (status.Name == database.Value.Name)
            {
                databaseOpen = open;
            }
        }

        // Each configured provider's breaker, looked up by its client and address (not by a name prefix).
        var llm = providers.Value.Llm.Count;
        foreach (var provider in providers.Value.Llm)
        {
            var breaker = registry.GetHttpCircuitBreaker(ModelRouter.ClientPrefix + provider.Name, ProvidersServiceCollectionExtensions.LlmAddress(providers.Value, provider.Name));
            llmOpen += breaker?.State is CircuitState.Open or CircuitState.Isolated ? 1 : 0;
        }

        if (databaseOpen)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the database's circuit breaker is open", data: data));
        }

        if (llm > 0 && llmOpen == llm)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"every LLM provider's circuit breaker is open ({llmOpen})", data: data));
        }

        return Task.FromResult(notClosed == 0
            ? HealthCheckResult.Healthy($"{data.Count} circuit breakers closed", data)
            : HealthCheckResult.Degraded($"{notClosed} of {data.Count} circuit breakers not closed", data: data));
    }
}
