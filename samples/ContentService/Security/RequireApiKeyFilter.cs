using ContentService.Errors;

namespace ContentService.Security;

/// <summary>Lets a write through only with a valid API key; the identity is kept on the request for the handler and the logs.</summary>
internal sealed partial class RequireApiKeyFilter(ApiKeyStore keys, ApiKeyAudit audit, TimeProvider time, ILogger<RequireApiKeyFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var presented = ApiKeyIdentityFeature.PresentedKey(http);
        var identity = presented is null ? null : await keys.ValidateAsync(presented, http.RequestAborted);
        if (identity is null)
        {
            string method = http.Request.Method, path = http.Request.Path.Value ?? "/", keyId = ApiKeyIdentityFeature.KeyIdOf(http);
            LogRejected(logger, method, path, keyId);
            http.Response.Headers.WWWAuthenticate = "ApiKey header=\"" + ApiKeyIdentityFeature.HeaderName + "\"";
            throw new ApiException(StatusCodes.Status401Unauthorized, ServiceErrorIds.Unauthorized,
                presented is null ? "An API key is required (X-Api-Key header)." : "The API key is not valid.");
        }

        ApiKeyIdentityFeature.Set(http, identity);

        // Recorded as the response starts: the status is final then (the exception handler's problem details included),
        // and the client cannot see the answer before the audit holds it. Bounded in time so an outage cannot stall it.
        // The route template, not the path: task ids would make every request its own row. Taken now, as the
        // exception handler clears the endpoint.
        var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "-";
        http.Response.OnStarting(static async state =>
        {
            var (audit, time, http, identity, route) = ((ApiKeyAudit, TimeProvider, HttpContext, ApiKeyIdentity, string))state;
            using var timeout = new CancellationTokenSource(AuditTimeout, time);
            await audit.RecordAsync(identity, http.Request.Method, route, http.Response.StatusCode, timeout.Token);
        }, (audit, time, http, identity, route));
        return await next(context);
    }

    private static readonly TimeSpan AuditTimeout = TimeSpan.FromSeconds(2);

    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "Write rejected: {Method} {Path} with key {KeyId} (missing or invalid)")]
    private static partial void LogRejected(ILogger logger, string method, string path, string keyId);
}

/// <summary>Marks endpoints as writes that need an API key.</summary>
internal static class RequireApiKeyExtensions
{
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.AddEndpointFilter<TBuilder, RequireApiKeyFilter>().WithMetadata(RequiresApiKeyMetadata.Instance);
}

/// <summary>Endpoint metadata: the endpoint needs an API key (the OpenAPI document lists its security requirement).</summary>
internal sealed class RequiresApiKeyMetadata
{
    public static readonly RequiresApiKeyMetadata Instance = new();
}
