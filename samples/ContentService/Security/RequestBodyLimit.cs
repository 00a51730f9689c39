using ContentService.Errors;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ContentService.Security;

/// <summary>Endpoint metadata: the body is an image, limited by <see cref="SecurityOptions.MaxImageBytes"/> instead of <see cref="SecurityOptions.MaxRequestBodyBytes"/>.</summary>
internal sealed class ImageBodyMetadata
{
    public static readonly ImageBodyMetadata Instance = new();
}

/// <summary>Rejects bodies over the endpoint's limit: at once from Content-Length, and through the server's limit for streamed bodies.</summary>
internal sealed class RequestBodyLimitMiddleware(RequestDelegate next, IOptions<SecurityOptions> options)
{
    public Task InvokeAsync(HttpContext http)
    {
        var limit = http.GetEndpoint()?.Metadata.GetMetadata<ImageBodyMetadata>() is null ? options.Value.MaxRequestBodyBytes : options.Value.MaxImageBytes;
        if (http.Request.ContentLength > limit)
        {
            return ApiProblem.WriteAsync(http, StatusCodes.Status413PayloadTooLarge, ServiceErrorIds.PayloadTooLarge, $"The request body is larger than {limit} bytes.");
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        return next(http);
    }
}
