using System.Threading.RateLimiting;
using ContentService.Errors;
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

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>(static (limiter, limits) =>
        {
            var o = limits.Value;
            var perClient = PartitionedRateLimiter.Create<HttpContext, string>(http => RateLimitPartition.GetFixedWindowLimiter(
                ClientKey(http),
                _ => new FixedWindowRateLimiterOptions { PermitLimit = o.PermitsPerWindow, Window = o.Window, QueueLimit = 0, AutoReplenishment = true }));
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
        return services;
    }

    public static WebApplication UseApiSecurity(this WebApplication app)
    {
        app.UseRateLimiter();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        return app;
    }

    /// <summary>A client is its API key (by hash, so a key never sits in memory as a dictionary key) or, without one, its address.</summary>
    internal static string ClientKey(HttpContext http) =>
        ApiKeyIdentityFeature.PresentedKey(http) is { Length: > 0 } key
            ? "key:" + ApiKeyStore.KeyIdOf(key)
            : "ip:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}
