using System.Net;
using System.Net.Http.Headers;

namespace Resilience.Http;

/// <summary>Builds what a request the handler gave up on returns: a synthesized 503 or an <see cref="HttpResilienceException"/>.</summary>
internal static class SyntheticResponses
{
    /// <summary>Creates a <c>503 Service Unavailable</c> with <c>Retry-After</c> (whole seconds, rounded up) and the outcome marker.</summary>
    public static HttpResponseMessage Create503(HttpRequestMessage request, HttpResilienceOutcome outcome, TimeSpan? retryAfter)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            ReasonPhrase = "Service Unavailable",
            Version = request.Version,
        };

        if (retryAfter is { } delay)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(ToWholeSeconds(delay));
        }

        OutcomeMarker.Mark(request, response, outcome);
        return response;
    }

    /// <summary>Creates the failure the caller sees in <paramref name="surface"/> mode: a response to return, or an exception to throw.</summary>
    public static HttpResponseMessage CreateOrThrow(
        HttpFailureSurface surface, HttpRequestMessage request, HttpResilienceOutcome outcome, string? authority, TimeSpan? retryAfter, Exception? lastError)
    {
        if (surface == HttpFailureSurface.Exception)
        {
            throw new HttpResilienceException(outcome, authority, retryAfter, lastError);
        }

        return outcome == HttpResilienceOutcome.TimedOut ? Create504(request) : Create503(request, outcome, retryAfter);
    }

    /// <summary>Creates a <c>504 Gateway Timeout</c> with the <see cref="HttpResilienceOutcome.TimedOut"/> marker.</summary>
    public static HttpResponseMessage Create504(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new HttpResponseMessage(HttpStatusCode.GatewayTimeout)
        {
            ReasonPhrase = "Gateway Timeout",
            Version = request.Version,
        };

        OutcomeMarker.Mark(request, response, HttpResilienceOutcome.TimedOut);
        return response;
    }

    /// <summary>Rounds up, so a client that waits the advertised seconds never comes back early.</summary>
    internal static TimeSpan ToWholeSeconds(TimeSpan delay) =>
        delay <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Ceiling(delay.TotalSeconds));
}
