namespace Resilience.Http;

/// <summary>How the handler reports a request that ends in a failure it handles: a transient status, a connection failure, a timeout or an open circuit.</summary>
/// <remarks>
/// The rule is the same for every such request, retried or not. Non-transient responses always pass through, an
/// exception that is not transient propagates as it was, and the caller's cancellation is an
/// <see cref="OperationCanceledException"/>.
/// </remarks>
public enum HttpFailureSurface
{
    /// <summary>
    /// A response, never an exception: the upstream's own last response (status, headers and body intact) when there is
    /// one, else a synthesized <c>503</c> (<c>504</c> when the total timeout ran out or every attempt timed out); marked with the outcome and the attempts sent (read
    /// them with <see cref="HttpResilienceResponse.GetOutcome(HttpResponseMessage)"/> and
    /// <see cref="HttpResilienceResponse.GetAttempts(HttpResponseMessage)"/>), so callers that already handle 503 need no
    /// new code path.
    /// </summary>
    Response503 = 0,

    /// <summary>
    /// An <see cref="HttpResilienceException"/> (an <see cref="HttpRequestException"/>) with the outcome, the attempts
    /// sent and the upstream's last status; the upstream's response, if any, is disposed.
    /// </summary>
    Exception,
}
