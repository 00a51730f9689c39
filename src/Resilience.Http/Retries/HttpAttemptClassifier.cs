namespace Resilience.Http;

/// <summary>Classifies the outcome of one attempt as a transient failure (retry, count against the breaker) or not.</summary>
internal static class HttpAttemptClassifier
{
    /// <summary>The default rule: connection failures, the handler's own attempt timeouts, and 408, 429, 500, 502, 503, 504.</summary>
    /// <remarks>
    /// The handler turns its attempt timeout into a <see cref="TimeoutException"/> before classifying, and lets the
    /// caller's cancellation propagate without classifying it; an <see cref="OperationCanceledException"/> seen here
    /// is therefore nobody's timeout and is not retried.
    /// </remarks>
    public static bool IsTransientByDefault(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        null => outcome.Result is { } response && HttpFailureClassifier.IsTransient(response.StatusCode),
        HttpResilienceException => false,
        HttpRequestException => true,
        TimeoutException => true,
        _ => false,
    };

    /// <summary>Applies the caller's predicate when there is one, else the default rule.</summary>
    public static bool IsTransient(HttpResilienceOptions options, Outcome<HttpResponseMessage> outcome) =>
        options.ShouldHandleOutcome is { } predicate ? predicate(outcome) : IsTransientByDefault(outcome);

    /// <summary>
    /// Returns whether an <see cref="OperationCanceledException"/> from an attempt is the handler's attempt timeout (not the
    /// caller's cancellation and not the total timeout).
    /// </summary>
    /// <remarks>The tokens are linked, so the exception's own token says little; which source fired is what counts.</remarks>
    public static bool IsAttemptTimeout(CancellationToken callerToken, CancellationToken totalToken, CancellationToken attemptToken) =>
        attemptToken.IsCancellationRequested && !callerToken.IsCancellationRequested && !totalToken.IsCancellationRequested;
}
