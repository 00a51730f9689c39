using System.Net;
using System.Net.Http.Headers;

namespace Resilience.Http;

/// <summary>Builds the response of a request the handler gave up on when no upstream response exists (nothing sent, connection failure, timeout).</summary>
/// <remarks>The caller marks it (<see cref="OutcomeMarker.Mark"/>) with the outcome and the attempts sent.</remarks>
internal static class SyntheticResponses
{
    /// <summary>Creates a <c>503 Service Unavailable</c> with <c>Retry-After</c> (whole seconds, rounded up) when a delay is known.</summary>
    public static HttpResponseMessage Create503(HttpRequestMessage request, TimeSpan? retryAfter)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
        {
            ReasonPhrase = "Service Unavailable",
            Version = request.Version,
        };

        if (retryAfter is { } delay && delay != Timeout.InfiniteTimeSpan)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(ToWholeSeconds(delay));
        }

        return response;
    }

    /// <summary>Creates a <c>504 Gateway Timeout</c> (no <c>Retry-After</c>: the upstream gave no hint).</summary>
    public static HttpResponseMessage Create504(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new HttpResponseMessage(HttpStatusCode.GatewayTimeout)
        {
            ReasonPhrase = "Gateway Timeout",
            Version = request.Version,
        };
    }

    /// <summary>Rounds up, so a client that waits the advertised seconds never comes back early.</summary>
    internal static TimeSpan ToWholeSeconds(TimeSpan delay) =>
        delay <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Ceiling(delay.TotalSeconds));
}
