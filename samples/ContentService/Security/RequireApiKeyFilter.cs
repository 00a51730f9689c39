using ContentService.Errors;

namespace ContentService.Security;

/// <summary>Lets a write through only with a valid API key; the identity is kept on the request for the handler and the logs.</summary>
internal sealed partial class RequireApiKeyFilter(ApiKeyStore keys, ILogger<RequireApiKeyFilter> logger) : IEndpointFilter
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
        return await next(context);
    }

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
