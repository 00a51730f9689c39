using Microsoft.Extensions.Logging;
using Resilience.CircuitBreaking;

namespace Resilience.Http;

/// <summary>The adapter's log events. Arguments are authorities or log-safe URIs (<see cref="LogSafeUri"/>), never queries.</summary>
internal static partial class HttpLog
{
    [LoggerMessage(HttpResilienceEventIds.RetryScheduled, LogLevel.Debug,
        "HTTP client {ClientName}: attempt {Attempt} to {Authority} failed ({Reason}); retrying in {DelayMs} ms")]
    public static partial void RetryScheduled(ILogger logger, string clientName, string authority, int attempt, string reason, double delayMs);

    [LoggerMessage(HttpResilienceEventIds.RetryNotAllowed, LogLevel.Debug,
        "HTTP client {ClientName}: {Method} {Uri} failed ({Reason}) and is not retried: {Permission}")]
    public static partial void RetryNotAllowed(ILogger logger, string clientName, string method, string uri, string reason, HttpRetryPermission permission);

    [LoggerMessage(HttpResilienceEventIds.ContentNotResendable, LogLevel.Information,
        "HTTP client {ClientName}: the body of {Method} {Uri} exceeds {LimitBytes} bytes ({Kind}); it is sent once and not retried")]
    public static partial void ContentNotResendable(ILogger logger, string clientName, string method, string uri, int limitBytes, ContentReplayKind kind);

    [LoggerMessage(HttpResilienceEventIds.CircuitOpenRejected, LogLevel.Warning,
        "HTTP client {ClientName}: the circuit of {Authority} is open; request rejected, retry after {RetryAfterMs} ms")]
    public static partial void CircuitOpenRejected(ILogger logger, string clientName, string authority, double retryAfterMs);

    [LoggerMessage(HttpResilienceEventIds.StaleResponseServed, LogLevel.Warning,
        "HTTP client {ClientName}: served a stored response for {Uri}, {AgeSeconds} s old, because the request failed ({Reason})")]
    public static partial void StaleResponseServed(ILogger logger, string clientName, string uri, long ageSeconds, string reason);

    [LoggerMessage(HttpResilienceEventIds.RetryAfterExceedsDeadline, LogLevel.Warning,
        "HTTP client {ClientName}: {Authority} asked to retry after {RetryAfterMs} ms, beyond the maximum delay or the time left; failing now")]
    public static partial void RetryAfterExceedsDeadline(ILogger logger, string clientName, string authority, double retryAfterMs);

    [LoggerMessage(HttpResilienceEventIds.RetriesExhausted, LogLevel.Warning,
        "HTTP client {ClientName}: {Attempts} attempts to {Authority} failed ({Reason}); giving up")]
    public static partial void RetriesExhausted(ILogger logger, string clientName, string authority, int attempts, string reason);

    [LoggerMessage(HttpResilienceEventIds.AttemptTimedOut, LogLevel.Information,
        "HTTP client {ClientName}: attempt {Attempt} to {Authority} timed out after {TimeoutMs} ms")]
    public static partial void AttemptTimedOut(ILogger logger, string clientName, string authority, int attempt, double timeoutMs);

    [LoggerMessage(HttpResilienceEventIds.AuthorityEvicted, LogLevel.Debug,
        "HTTP client {ClientName}: stopped tracking {Authority} (more than {Limit} authorities)")]
    public static partial void AuthorityEvicted(ILogger logger, string clientName, string authority, int limit);

    [LoggerMessage(HttpResilienceEventIds.RetryBudgetExhausted, LogLevel.Warning,
        "HTTP client {ClientName}: a retry to {Authority} was due but the retry budget is empty; giving up")]
    public static partial void RetryBudgetExhausted(ILogger logger, string clientName, string authority);

    [LoggerMessage(HttpResilienceEventIds.TimedOut, LogLevel.Warning,
        "HTTP client {ClientName}: the request to {Authority} ran out of its total timeout of {TimeoutMs} ms after {Attempts} attempts")]
    public static partial void TimedOut(ILogger logger, string clientName, string authority, double timeoutMs, int attempts);

    [LoggerMessage(HttpResilienceEventIds.RetriesStoppedByOpenCircuit, LogLevel.Warning,
        "HTTP client {ClientName}: {Attempts} attempts to {Authority} were sent and failed; the circuit is now open, so no further retry is made (retry after {RetryAfterMs} ms)")]
    public static partial void RetriesStoppedByOpenCircuit(ILogger logger, string clientName, string authority, int attempts, double retryAfterMs);

    [LoggerMessage(HttpResilienceEventIds.OpenBreakerForgotten, LogLevel.Warning,
        "HTTP client {ClientName}: stopped tracking {Authority} while its circuit was {State}: all {Limit} tracked authorities had a circuit that was not closed; its next request starts with a closed circuit")]
    public static partial void OpenBreakerForgotten(ILogger logger, string clientName, string authority, CircuitState state, int limit);

    /// <summary>A short, log-safe reason for an attempt's failure: the status code or the exception type.</summary>
    public static string ReasonOf(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } exception
            ? exception.GetType().Name
            : outcome.Result is { } response ? StatusText((int)response.StatusCode) : "none";

    private static string StatusText(int status) => status switch
    {
        408 => "408", 429 => "429", 500 => "500", 502 => "502", 503 => "503", 504 => "504",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [LoggerMessage(HttpResilienceEventIds.ReloadFailed, LogLevel.Warning,
        "HTTP client {ClientName}: the handler could not be rebuilt from its reloaded options; the options in force stay")]
    public static partial void ReloadFailed(ILogger logger, Exception exception, string clientName);
}
