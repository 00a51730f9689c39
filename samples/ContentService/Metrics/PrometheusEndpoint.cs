using OpenTelemetry.Metrics;
using Resilience.Telemetry;

namespace ContentService.Metrics;

/// <summary>
/// <c>GET /metrics</c> in Prometheus' text format, through OpenTelemetry's exporter: the library's <c>Resilience</c>
/// meter (retries, breakers, fallbacks, timeouts, pool health, durations), the service's <c>api_errors_total</c> and
/// Npgsql's own pool and command figures.
/// </summary>
internal static class PrometheusEndpoint
{
    public const string Path = "/metrics";

    public static IServiceCollection AddPrometheusMetrics(this IServiceCollection services)
    {
        services.AddSingleton<ApiErrorMetrics>();
        services.AddOpenTelemetry().WithMetrics(static metrics => metrics
            .AddMeter(ResilienceTelemetry.MeterName, ApiErrorMetrics.MeterName, "Npgsql")
            // Each scrape reads the current values: the exporter's default 300 ms response cache would hide a change
            // between two quick scrapes, and a scrape is cheap at this size.
            .AddPrometheusExporter(static o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    public static IEndpointRouteBuilder MapPrometheusMetrics(this IEndpointRouteBuilder app)
    {
        // A scraper, like a health probe, must not be rate limited: it would go blind exactly when traffic peaks.
        app.MapPrometheusScrapingEndpoint(Path).DisableRateLimiting().ExcludeFromDescription();
        return app;
    }
}
