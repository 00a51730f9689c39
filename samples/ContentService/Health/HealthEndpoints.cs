using ContentService.Database;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ContentService.Health;

/// <summary>Liveness and readiness (pool health and every breaker); the status page lives in Status/.</summary>
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
        // Probes are never rate limited: a limited liveness probe restarts a healthy instance under load.
        app.MapHealthChecks("/health/live", new() { Predicate = static _ => false }).DisableRateLimiting();
        app.MapHealthChecks("/health/ready", new()
        {
            Predicate = static check => check.Tags.Contains("ready"),
            ResultStatusCodes = { [HealthStatus.Degraded] = StatusCodes.Status200OK, [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
            ResponseWriter = HealthResponseWriter.WriteAsync,
        }).DisableRateLimiting();

        return app;
    }
}
