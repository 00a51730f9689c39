using System.Diagnostics;
using System.Globalization;

namespace ContentService.Errors;

/// <summary>Writes RFC 9457 problem details with the error ID, the trace id and, when given, the field at fault and Retry-After.</summary>
internal static class ApiProblem
{
    public const string ContentType = "application/problem+json";

    public static async Task WriteAsync(HttpContext http, int status, string errorId, string title, string? field = null, TimeSpan? retryAfter = null)
    {
        var problem = Create(http, status, errorId, title, field, retryAfter);
        Metrics.ApiErrorMetrics.Record(http, errorId, status);
        if (retryAfter is { } delay)
        {
            http.Response.Headers.RetryAfter = Seconds(delay).ToString(CultureInfo.InvariantCulture);
        }

        http.Response.StatusCode = status;
        await http.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, ContentType, http.RequestAborted);
    }

    public static ServiceProblem Create(HttpContext http, int status, string errorId, string title, string? field = null, TimeSpan? retryAfter = null) => new(
        Type: "https://resilience.sample/errors/" + errorId.ToLowerInvariant().Replace('_', '-'),
        Title: title,
        Status: status,
        Instance: http.Request.Path.Value,
        ErrorId: errorId,
        TraceId: TraceIdOf(http),
        Field: field,
        RetryAfterSeconds: retryAfter is { } delay ? Seconds(delay) : null);

    public static string TraceIdOf(HttpContext http) => Activity.Current?.TraceId.ToString() ?? http.TraceIdentifier;

    private static int Seconds(TimeSpan delay) => Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds));
}

/// <summary>The problem-details body (RFC 9457) with this service's extension members.</summary>
internal sealed record ServiceProblem(string Type, string Title, int Status, string? Instance, string ErrorId, string TraceId, string? Field, int? RetryAfterSeconds);
