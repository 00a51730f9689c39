using System.ComponentModel.DataAnnotations;
using ContentService.Errors;
using Microsoft.AspNetCore.Http.Timeouts;

namespace ContentService.Hosting;

/// <summary>Request-level limits, bound from <c>Requests</c>.</summary>
internal sealed class RequestOptions
{
    public const string Section = "Requests";

    /// <summary>
    /// How long a read (GET of tasks, content, metrics) may take in all, the original service's 5 s query limit.
    /// The database's statement timeout is per statement and its total timeout spans retries (30 s), so without this
    /// a read blocked on a lock waited 11.6 s. Default 5 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ReadDeadline { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The read deadline as an ASP.NET request-timeout policy: the request's token is cancelled, the answer is 504 ERR_TIMEOUT.</summary>
internal static class ReadDeadline
{
    public const string Policy = "reads";

    public static IServiceCollection AddReadDeadline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RequestOptions>().Bind(configuration.GetSection(RequestOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>().Configure<Microsoft.Extensions.Options.IOptions<RequestOptions>>(static (timeouts, requests) =>
            timeouts.AddPolicy(Policy, new RequestTimeoutPolicy
            {
                Timeout = requests.Value.ReadDeadline,
                TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
                // Written with no token: the request's own token is the one the deadline just cancelled.
                WriteTimeoutResponse = static http =>
                {
                    Metrics.ApiErrorMetrics.Record(http, ServiceErrorIds.Timeout, StatusCodes.Status504GatewayTimeout);
                    return http.Response.WriteAsJsonAsync(
                        ApiProblem.Create(http, StatusCodes.Status504GatewayTimeout, ServiceErrorIds.Timeout, "The read did not complete within its deadline."),
                        (System.Text.Json.JsonSerializerOptions?)null, ApiProblem.ContentType, CancellationToken.None);
                },
            }));
        return services;
    }

    /// <summary>Gives the endpoint the read deadline.</summary>
    public static TBuilder WithReadDeadline<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.WithRequestTimeout(Policy);
        return builder;
    }
}
