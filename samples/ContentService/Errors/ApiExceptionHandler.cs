using ContentService.Providers;
using ContentService.Security;
using Microsoft.AspNetCore.Diagnostics;
using Resilience.Timeouts;
using Resilience.Failures;
using Resilience.Npgsql;

namespace ContentService.Errors;

/// <summary>
/// Turns every exception that reaches the edge into problem details with a stable error ID. A database failure is
/// never reported as success or "not found"; a 500 says nothing internal (the log has the detail).
/// </summary>
internal sealed partial class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    // When the breaker gives no remaining break (database simply down), clients wait this long before trying again.
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(5);

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        if (http.Response.HasStarted)
        {
            return false;
        }

        var (status, errorId, title, field, retryAfter) = Map(exception, http);
        string method = http.Request.Method, path = http.Request.Path.Value ?? "/", keyId = ApiKeyIdentityFeature.KeyIdOf(http);
        if (status >= 500)
        {
            if (logger.IsEnabled(LogLevel.Error))
            {
                LogServerError(logger, exception, errorId, status, method, path, keyId);
            }
        }
        else if (logger.IsEnabled(LogLevel.Information))
        {
            LogClientError(logger, errorId, status, method, path, keyId, title);
        }

        await ApiProblem.WriteAsync(http, status, errorId, title, field, retryAfter);
        return true;
    }

    internal static (int Status, string ErrorId, string Title, string? Field, TimeSpan? RetryAfter) Map(Exception exception, HttpContext http) => exception switch
    {
        ApiException e => (e.Status, e.ErrorId, e.Message, e.Field, e.RetryAfter),
        // The status comes from the library's one map; the sample adds its error IDs and wording.
        DatabaseException e => e.FailureKind switch
        {
            FailureKind.Unavailable or FailureKind.Transient => (FailureKinds.ToHttpStatus(e.FailureKind), ServiceErrorIds.DatabaseUnavailable, "The database is unavailable; try again later.", null, e.RetryAfter ?? DefaultRetryAfter),
            FailureKind.Timeout => (FailureKinds.ToHttpStatus(e.FailureKind), ServiceErrorIds.Timeout, "The database did not answer in time.", null, null),
            FailureKind.UnknownOutcome => (FailureKinds.ToHttpStatus(e.FailureKind), ServiceErrorIds.UnknownOutcome, "The change may or may not have been saved; check its state before repeating it.", null, DefaultRetryAfter),
            FailureKind.Conflict => (FailureKinds.ToHttpStatus(e.FailureKind), ServiceErrorIds.AlreadyExists, "The item already exists.", null, null),
            FailureKind.InvalidInput => (FailureKinds.ToHttpStatus(e.FailureKind), ServiceErrorIds.Validation, "A value is not acceptable.", null, null),
            _ => (500, ServiceErrorIds.Internal, "An unexpected error occurred.", null, null),
        },
        UpstreamUnavailableException e => (503, ServiceErrorIds.UpstreamUnavailable, e.Message, null, e.RetryAfter ?? DefaultRetryAfter),
        OperationTimeoutException => (504, ServiceErrorIds.Timeout, "The operation did not complete in time.", null, null),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            (413, ServiceErrorIds.PayloadTooLarge, "The request body is too large.", null, null),
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } =>
            (415, ServiceErrorIds.UnsupportedMediaType, "The body must be JSON (Content-Type: application/json).", null, null),
        BadHttpRequestException e => (422, ServiceErrorIds.Validation, "The request body is not valid.", FieldOf(e), null),
        OperationCanceledException when http.RequestAborted.IsCancellationRequested =>
            (499, ServiceErrorIds.Internal, "The request was aborted.", null, null),
        _ => (500, ServiceErrorIds.Internal, "An unexpected error occurred.", null, null),
    };

    private static readonly System.Buffers.SearchValues<char> FieldCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

    // The JSON reader names the path of the bad value ("Path: $.targetLength"); the field is that path, never the value.
    private static string? FieldOf(BadHttpRequestException exception)
    {
        var message = exception.InnerException?.Message;
        if (message is null)
        {
            return "body";
        }

        // A repeated key names itself ("Duplicate property 'topic' ..."); its path may still point at the object.
        const string duplicate = "Duplicate property '";
        var named = message.IndexOf(duplicate, StringComparison.Ordinal);
        if (named >= 0)
        {
            var from = named + duplicate.Length;
            var to = message.IndexOf('\'', from);
            if (to > from && message.AsSpan(from, to - from).IndexOfAnyExcept(FieldCharacters) < 0)
            {
                return message[from..to];
            }
        }

        const string marker = "Path: $.";
        var at = message.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            return "body";
        }

        var start = at + marker.Length;
        var end = start;
        while (end < message.Length && (char.IsLetterOrDigit(message[end]) || message[end] is '.' or '_'))
        {
            end++;
        }

        return end > start ? message[start..end] : "body";
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Error, Message = "{ErrorId} ({Status}) for {Method} {Path}, key {KeyId}")]
    private static partial void LogServerError(ILogger logger, Exception exception, string errorId, int status, string method, string path, string keyId);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "{ErrorId} ({Status}) for {Method} {Path}, key {KeyId}: {Title}")]
    private static partial void LogClientError(ILogger logger, string errorId, int status, string method, string path, string keyId, string title);
}
