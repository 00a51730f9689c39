using System.Globalization;

namespace ContentService.Metrics;

/// <summary><c>GET /api/metrics</c>: counts by status, success rate, 30-day cost by provider; cached, with its age.</summary>
internal static class MetricsEndpoints
{
    public static IServiceCollection AddServiceMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MetricsOptions>().Bind(configuration.GetSection(MetricsOptions.Section))
            .Validate(static o => o.CacheDuration >= TimeSpan.Zero && o.CacheDuration <= TimeSpan.FromHours(1), "Metrics:CacheDuration: must be between 00:00:00 and 01:00:00.")
            .Validate(static o => o.MaxStaleness >= TimeSpan.FromSeconds(1) && o.MaxStaleness <= TimeSpan.FromDays(7), "Metrics:MaxStaleness: must be between 00:00:01 and 7.00:00:00.")
            .ValidateOnStart();
        services.AddSingleton<MetricsService>();
        return services;
    }

    public static IEndpointRouteBuilder MapServiceMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/metrics", async (HttpContext http, MetricsService metrics, CancellationToken ct) =>
        {
            var result = await metrics.GetAsync(ct);
            http.Response.Headers.Age = ((long)result.AgeSeconds).ToString(CultureInfo.InvariantCulture);
            if (result.Stale)
            {
                http.Response.Headers.Warning = "110 - \"Response is stale\"";
            }

            return Results.Ok(result);
        })
        .WithTags("Metrics")
        .Produces<MetricsResponse>()
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }
}
