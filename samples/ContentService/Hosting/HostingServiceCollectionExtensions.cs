using System.Text.Json.Serialization;
using ContentService.Security;

namespace ContentService.Hosting;

/// <summary>OpenAPI, graceful shutdown, the start-up report, and a log scope carrying each request's key id.</summary>
internal static class HostingServiceCollectionExtensions
{
    public static IServiceCollection AddServiceHosting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOpenApi(OpenApiDocumentation.Configure);
        services.AddReadDeadline(configuration);

        // A field the API does not define is an error, not silently dropped: a client that sends "status" or "isAdmin"
        // must learn that it had no effect. The handler answers it 422 ERR_VALIDATION naming the field.
        // A repeated key is refused too (which value wins is the parser's guess), and a number must be a JSON number:
        // the web defaults read "300" into an int, so a client's type bug went unseen.
        services.ConfigureHttpJsonOptions(static o =>
        {
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            o.SerializerOptions.AllowDuplicateProperties = false;
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });

        // Shutdown waits this long for requests and the executor to return in-flight tasks to pending.
        services.Configure<HostOptions>(configuration.GetSection("Shutdown"));
        services.AddHostedService<StartupReport>();
        return services;
    }

    public static WebApplication UseServiceHosting(this WebApplication app)
    {
        // Every log line of a request carries the hash-derived id of its API key (never the key) and its trace id.
        app.Use(static async (http, next) =>
        {
            var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ContentService.Requests");
            using (logger.BeginScope(new Dictionary<string, object> { ["KeyId"] = ApiKeyIdentityFeature.KeyIdOf(http), ["TraceId"] = Errors.ApiProblem.TraceIdOf(http) }))
            {
                await next(http);
            }
        });
        return app;
    }

    public static WebApplication MapServiceHosting(this WebApplication app)
    {
        app.MapOpenApi();
        return app;
    }
}
