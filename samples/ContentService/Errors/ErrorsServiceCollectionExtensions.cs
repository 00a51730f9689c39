using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;

namespace ContentService.Errors;

/// <summary>Problem details for every failure: thrown ones through <see cref="ApiExceptionHandler"/>, routing's own 404/405 through status-code pages.</summary>
internal static class ErrorsServiceCollectionExtensions
{
    public static IServiceCollection AddServiceErrors(this IServiceCollection services)
    {
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = static context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            context.ProblemDetails.Extensions["errorId"] = status switch
            {
                StatusCodes.Status404NotFound => ServiceErrorIds.NotFound,
                StatusCodes.Status405MethodNotAllowed => ServiceErrorIds.MethodNotAllowed,
                StatusCodes.Status413PayloadTooLarge => ServiceErrorIds.PayloadTooLarge,
                StatusCodes.Status415UnsupportedMediaType => ServiceErrorIds.UnsupportedMediaType,
                StatusCodes.Status401Unauthorized => ServiceErrorIds.Unauthorized,
                StatusCodes.Status429TooManyRequests => ServiceErrorIds.RateLimited,
                StatusCodes.Status422UnprocessableEntity => ServiceErrorIds.Validation,
                >= 400 and < 500 => ServiceErrorIds.BadRequest,
                _ => ServiceErrorIds.Internal,
            };
            context.ProblemDetails.Extensions["traceId"] = ApiProblem.TraceIdOf(context.HttpContext);
            Metrics.ApiErrorMetrics.Record(context.HttpContext, (string)context.ProblemDetails.Extensions["errorId"]!, status);
        });

        // A body that does not bind (bad JSON, wrong type) throws, so it is answered 422 ERR_VALIDATION naming the field.
        services.Configure<RouteHandlerOptions>(static o => o.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(static o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
        });
        return services;
    }

    public static WebApplication UseServiceErrors(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}
