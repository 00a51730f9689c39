using ContentService.Cluster;
using ContentService.Providers;
using ContentService.Status;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Health;
using Resilience.Http;
using Resilience.Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers and maps the status page: <c>/status</c> (HTML) refreshing itself from <c>/status/data</c> (JSON).</summary>
internal static class StatusPageExtensions
{
    // The page's own files only: no inline script or style, no other origin.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Adds the recorders behind the page, bound from <c>StatusPage</c>; provider costs come from the service's metrics.</summary>
    public static IServiceCollection AddStatusPage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StatusPageOptions>().Bind(configuration.GetSection(StatusPageOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ProviderCostPanel>();
        services.AddSingleton<ResilienceMeterRecorder>();
        services.AddHostedService(static sp => sp.GetRequiredService<ResilienceMeterRecorder>());
        services.AddSingleton<PoolSampler>();
        services.AddHostedService(static sp => sp.GetRequiredService<PoolSampler>());
        return services;
    }

    /// <summary>Maps <c>/status</c>, its script and style sheet, and <c>/status/data</c>.</summary>
    public static IEndpointRouteBuilder MapStatusPage(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/status").WithTags("Status").AddEndpointFilter<StatusPageAccessFilter>();
        group.MapGet("/", static (HttpContext http) => Asset(http, "status.html", "text/html; charset=utf-8")).ExcludeFromDescription();
        group.MapGet("/status.js", static (HttpContext http) => Asset(http, "status.js", "text/javascript; charset=utf-8")).ExcludeFromDescription();
        group.MapGet("/status.css", static (HttpContext http) => Asset(http, "status.css", "text/css; charset=utf-8")).ExcludeFromDescription();
        group.MapGet("/data", static async (
            HttpContext http,
            CircuitBreakerRegistry registry,
            PoolHealthMonitor monitor,
            ResilientDataSource database,
            ResilienceMeterRecorder recorder,
            PoolSampler sampler,
            ProviderCostPanel costs,
            HttpResilienceLimiters limiters,
            IOptions<ProvidersOptions> providers,
            TimeProvider time,
            IOptions<StatusPageOptions> options) =>
        {
            // Costs first: reading them may itself retry, open the database breaker or serve a fallback, shown below.
            var costPanel = await costs.GetAsync(http.RequestAborted);
            var cluster = http.RequestServices.GetService<ClusterView>() is { } view ? await view.GetAsync(http.RequestAborted) : null;
            var statuses = registry.GetStatusReport();
            var breakers = new BreakerView[statuses.Count];
            for (var i = 0; i < breakers.Length; i++)
            {
                var mode = registry.TryGet(statuses[i].Name, out var breaker) ? breaker.Mode : (CircuitBreakerMode?)null;
                breakers[i] = BreakerView.From(statuses[i], mode, recorder.GetTransitions(statuses[i].Name));
            }

            http.Response.Headers.CacheControl = "no-store";
            return Results.Ok(new StatusData(
                time.GetUtcNow(),
                (int)options.Value.RefreshInterval.TotalMilliseconds,
                breakers,
                Limits(limiters, providers.Value, database),
                PoolView.From(monitor, sampler.GetSamples()),
                recorder.GetCounters(),
                RetrySummary.From(database.Pipeline.RetryStatistics),
                costPanel,
                cluster));
        })
        .Produces<StatusData>()
        .ProducesProblem(StatusCodes.Status401Unauthorized);
        return endpoints;
    }

    /// <summary>Each LLM provider's limits (one per upstream authority it called), then the database's.</summary>
    private static List<LimitView> Limits(HttpResilienceLimiters limiters, ProvidersOptions providers, ResilientDataSource database)
    {
        var views = new List<LimitView>();
        foreach (var provider in providers.Llm)
        {
            var client = ModelRouter.ClientPrefix + provider.Name;
            var throttlers = limiters.GetThrottlers(client);
            foreach (var limiter in limiters.GetConcurrencyLimiters(client))
            {
                var throttler = throttlers.FirstOrDefault(t => t.Name == limiter.Name);
                views.Add(LimitView.From(limiter, throttler));
            }
        }

        if (database.ConcurrencyLimiter is { } pool)
        {
            views.Add(LimitView.From(pool, null));
        }

        return views;
    }

    private static IResult Asset(HttpContext http, string name, string contentType)
    {
        http.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(StatusPageAssets.Get(name), contentType);
    }
}
