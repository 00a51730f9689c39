namespace Resilience.Http;

/// <summary>How the handler reports a request it gave up on (circuit open, retries exhausted, and the like).</summary>
public enum HttpFailureSurface
{
    /// <summary>
    /// A synthesized <c>503 Service Unavailable</c> response with <c>Retry-After</c> and an outcome marker
    /// (read it with <see cref="HttpResilienceResponse.GetOutcome(HttpResponseMessage)"/>), so callers that already
    /// handle 503 need no new code path.
    /// </summary>
    Response503 = 0,

    /// <summary>An <see cref="HttpResilienceException"/>, which derives from <see cref="HttpRequestException"/>.</summary>
    Exception,
}
