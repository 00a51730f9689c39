using System.Net;
using System.Net.Http.Headers;
using Resilience.Failures;

namespace Resilience.Http;

/// <summary>Classifies HTTP responses and errors into <see cref="FailureKind"/>, and reads <c>Retry-After</c>.</summary>
public static class HttpFailureClassifier
{
    /// <summary>Returns whether a response with <paramref name="statusCode"/> is worth retrying: 408, 429, 500, 502, 503 and 504.</summary>
    /// <param name="statusCode">The response status.</param>
    /// <returns><see langword="true"/> for the transient statuses.</returns>
    public static bool IsTransient(HttpStatusCode statusCode) => (int)statusCode is 408 or 429 or 500 or 502 or 503 or 504;

    /// <summary>Returns the failure kind of a response status.</summary>
    /// <param name="statusCode">The response status.</param>
    /// <returns><see cref="FailureKind.None"/> for success and redirection statuses.</returns>
    public static FailureKind Classify(HttpStatusCode statusCode) => (int)statusCode switch
    {
        < 400 => FailureKind.None,
        408 or 504 => FailureKind.Timeout,
        429 or 503 => FailureKind.Unavailable,
        500 or 502 => FailureKind.Transient,
        404 or 410 => FailureKind.NotFound,
        409 or 412 => FailureKind.Conflict,
        401 or 403 => FailureKind.Configuration,
        400 or 422 => FailureKind.InvalidInput,
        _ => FailureKind.Permanent,
    };

    /// <summary>Reads the server's <c>Retry-After</c> hint as a delay from <paramref name="now"/>.</summary>
    /// <param name="headers">The response headers.</param>
    /// <param name="now">The current time, from the caller's <see cref="TimeProvider"/>.</param>
    /// <param name="delay">The hint: delta-seconds as given, an HTTP-date as the time until it (a past date gives zero).</param>
    /// <returns><see langword="true"/> when the response carries a usable hint.</returns>
    public static bool TryGetRetryAfter(HttpResponseHeaders headers, DateTimeOffset now, out TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var retryAfter = headers.RetryAfter;
        if (retryAfter?.Delta is { } delta && delta >= TimeSpan.Zero)
        {
            delay = delta;
            return true;
        }

        if (retryAfter?.Date is { } date)
        {
            delay = date > now ? date - now : TimeSpan.Zero;
            return true;
        }

        delay = TimeSpan.Zero;
        return false;
    }
}
