using System.Net;
using System.Threading.RateLimiting;
using ContentService.Cluster;
using ContentService.Errors;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ContentService.Security;

/// <summary>API keys, rate limiting, the global concurrency limit and request size limits.</summary>
internal static class SecurityServiceCollectionExtensions
{
    public static IServiceCollection AddApiSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SecurityOptions>().Bind(configuration.GetSection(SecurityOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<ApiKeyAudit>();

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>, TimeProvider, IServiceProvider>(static (limiter, limits, time, sp) =>
        {
            var o = limits.Value;

            // Clustered (Cluster:Enabled), a client's API allowance holds across every instance; the status page's stays
            // per instance (a browser keeps to one instance behind the load balancer).
            var cluster = sp.GetService<ClusterKeyLimits>();
            var perClient = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                // The status page has its own allowance, so neither can starve the other.
                var status = http.Request.Path.StartsWithSegments("/status", StringComparison.OrdinalIgnoreCase);
                var permits = status ? o.StatusPermitsPerWindow : o.PermitsPerWindow;
                return status || cluster is null
                    ? RateLimitPartition.Get((status ? "status|" : "api|") + ClientKey(http), _ => new FixedWindowLimiter(permits, o.Window, time))
                    : RateLimitPartition.Get("api|" + ClientKey(http), key => cluster.Get(key, permits, o.Window));
            });
            var global = PartitionedRateLimiter.Create<HttpContext, string>(_ => RateLimitPartition.GetConcurrencyLimiter(
                "global",
                _ => new ConcurrencyLimiterOptions { PermitLimit = o.ConcurrencyLimit, QueueLimit = o.ConcurrencyQueueLimit, QueueProcessingOrder = QueueProcessingOrder.OldestFirst }));
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(perClient, global);
            limiter.OnRejected = static (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                return new ValueTask(ApiProblem.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, ServiceErrorIds.RateLimited,
                    "Too many requests; slow down.", retryAfter: retryAfter));
            };
        });

        // X-Forwarded-For only from the configured proxies: the defaults trust loopback, and any client could send it.
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<RateLimitOptions>>(static (forwarded, limits) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var proxy in limits.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });
        return services;
    }

    public static WebApplication UseApiSecurity(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<RateLimitOptions>>().Value.KnownProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        // Inside the exception handler, which answers a cancelled request 499 before any handler sees it: the read
        // deadline's 504 must be written here.
        app.UseRequestTimeouts();
        app.UseRateLimiter();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        return app;
    }

    /// <summary>
    /// A client is its configured API key (by hash id) or else its address. A key is known without I/O only when it is
    /// configured; any other key (issued at sign-in, or made up) counts as its address, so rotating invented keys never
    /// buys a fresh allowance.
    /// </summary>
    internal static string ClientKey(HttpContext http) =>
        ApiKeyIdentityFeature.PresentedKey(http) is { Length: > 0 and <= 256 } key
            && http.RequestServices.GetRequiredService<ApiKeyStore>().ConfiguredKeyId(key) is { } keyId
            ? "key:" + keyId
            : "ip:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}
