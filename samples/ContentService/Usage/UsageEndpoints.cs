using System.Globalization;
using ContentService.Providers;
using Microsoft.Extensions.Options;

namespace ContentService.Usage;

/// <summary><c>GET /api/cms/usage</c>: the image CMS's usage, cached briefly, served stale with its age while the CMS fails.</summary>
internal static class UsageEndpoints
{
    public static IServiceCollection AddCmsUsage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<UsageOptions>().Bind(configuration.GetSection(UsageOptions.Section))
            .Validate(static o => o.CacheDuration >= TimeSpan.Zero && o.CacheDuration <= TimeSpan.FromHours(1), "Usage:CacheDuration: must be between 00:00:00 and 01:00:00.")
            .ValidateOnStart();

        // Its own client, so its own breaker: a failing usage call never opens the breaker that uploads go through.
        services.AddHttpClient(CmsUsageService.ClientName, static (sp, client) =>
                client.BaseAddress = sp.GetRequiredService<IOptions<ProvidersOptions>>().Value.BaseUrl)
            .AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:" + CmsUsageService.ClientName));
        services.AddSingleton<CmsUsageService>();
        return services;
    }

    public static IEndpointRouteBuilder MapCmsUsage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/cms/usage", async (HttpContext http, CmsUsageService usage, CancellationToken ct) =>
        {
            var result = await usage.GetAsync(ct);
            http.Response.Headers.Age = ((long)result.AgeSeconds).ToString(CultureInfo.InvariantCulture);
            if (result.Stale)
            {
                http.Response.Headers.Warning = "110 - \"Response is stale\"";
            }

            return Results.Ok(result);
        })
        .WithTags("Usage")
        .Produces<CmsUsageResponse>()
        .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }
}
