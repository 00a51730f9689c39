using ContentService.Database;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Resilience.CircuitBreaking;
using Resilience.Health;
using Resilience.Npgsql;

namespace ContentService.Health;

/// <summary>Liveness, readiness (pool health and every breaker) and the JSON status summary.</summary>
internal static class HealthEndpoints
{
    public static IServiceCollection AddServiceHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"])
            .AddCheck<CircuitBreakersHealthCheck>("circuit-breakers", tags: ["ready"]);
        return services;
    }

    public static WebApplication MapServiceHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = static _ => false });
        app.MapHealthChecks("/health/ready", new()
        {
            Predicate = static check => check.Tags.Contains("ready"),
            ResultStatusCodes = { [HealthStatus.Degraded] = StatusCodes.Status200OK, [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
            ResponseWriter = HealthResponseWriter.WriteAsync,
        });

        // What an operator looks at first: every breaker's state and the pool's latest health report.
        app.MapGet("/status", (CircuitBreakerRegistry breakers, PoolHealthMonitor pool, ResilientDataSource database) =>
        {
            var retries = database.Pipeline.RetryStatistics?.GetSnapshot();
            return Results.Ok(new StatusResponse(
                breakers.GetStatusReport(),
                pool.Current is { } report ? PoolSummary.From(report) : null,
                retries is { } r ? new RetrySummary(r.Calls, r.FirstTrySuccesses, r.RetriedSuccesses, r.Exhausted, r.TotalRetries, r.SuccessRate) : null));
        }).ExcludeFromDescription();
        return app;
    }
}
