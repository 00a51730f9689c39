using System.Diagnostics.Metrics;

namespace ContentService.Metrics;

/// <summary>
/// The service's own meter: <c>api.errors</c> (Prometheus: <c>api_errors_total{code, status}</c>), one count per
/// problem-details answer by its error ID, so an operator can alert on a rate of, say, <c>ERR_DB_UNAVAILABLE</c>.
/// </summary>
/// <remarks>Created through the host's <see cref="IMeterFactory"/>; every answer with an error ID passes through <see cref="Record"/>.</remarks>
internal sealed class ApiErrorMetrics
{
    public const string MeterName = "ContentService";
    public const string ErrorsInstrument = "api.errors";
    private readonly Counter<long> _errors;

    public ApiErrorMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _errors = meter.CreateCounter<long>(ErrorsInstrument, description: "Error answers (problem details) by error ID and HTTP status.");
    }

    public void Record(string errorId, int status) =>
        _errors.Add(1, new KeyValuePair<string, object?>("code", errorId), new KeyValuePair<string, object?>("status", status));

    /// <summary>Records for the request's host, when it has the metrics (every host of this service does).</summary>
    public static void Record(HttpContext http, string errorId, int status) =>
        http.RequestServices?.GetService<ApiErrorMetrics>()?.Record(errorId, status);
}
