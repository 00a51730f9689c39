namespace Resilience.Http;

/// <summary>What the resilience handler did with a request that did not simply succeed: why it stopped, or what it served instead.</summary>
/// <remarks>
/// Read it from a response with <see cref="HttpResilienceResponse.GetOutcome(HttpResponseMessage)"/> or from
/// <see cref="HttpResilienceException.Outcome"/>; <see cref="HttpResilienceResponse.GetAttempts(HttpResponseMessage)"/> and
/// <see cref="HttpResilienceException.Attempts"/> say how many attempts reached the network. <see cref="CircuitOpen"/> and
/// <see cref="ConcurrencyLimited"/> mean that nothing was sent; so does <see cref="Throttled"/> when no attempt was made.
/// </remarks>
public enum HttpResilienceOutcome
{
    /// <summary>The handler did nothing worth reporting: the response is the upstream's, as it answered.</summary>
    None = 0,

    /// <summary>A stored earlier response was served because the upstream failed; it carries an <c>Age</c> header.</summary>
    Stale,

    /// <summary>The circuit of the authority was open before the first attempt: <b>the request was not sent</b>.</summary>
    CircuitOpen,

    /// <summary>Every attempt failed transiently and no retry was left (<see cref="HttpResilienceOptions.MaxRetries"/> were made).</summary>
    RetriesExhausted,

    /// <summary>A retry was due but the retry budget of the authority was empty.</summary>
    RetryBudgetExhausted,

    /// <summary>The server asked to wait (<c>Retry-After</c>) longer than the maximum delay or the time left allows; its answer is returned at once.</summary>
    RetryAfterExceedsDeadline,

    /// <summary>
    /// The total timeout (<see cref="HttpResilienceOptions.TotalTimeout"/>) ran out, or would run out before the next
    /// attempt could start.
    /// </summary>
    TimedOut,

    /// <summary>
    /// The attempt failed transiently and the request was not retried: retries are off (<see cref="HttpResilienceOptions.MaxRetries"/> is 0),
    /// the method is not safe to repeat (no <c>Idempotency-Key</c>, no opt-in), or the body is too large to resend.
    /// </summary>
    NotRetried,

    /// <summary>
    /// At least one attempt was sent and failed, and the authority's circuit is now open, so no further retry was made:
    /// the request <b>may have reached the server</b>.
    /// </summary>
    RetriesStoppedByOpenCircuit,

    /// <summary>
    /// The authority's adaptive concurrency limit was reached and the request could not wait for a slot (queue full, its
    /// wait ran out, or it was sheddable): <b>the request was not sent</b>. The answer's <c>Retry-After</c> is about when a
    /// slot frees up. See <see cref="HttpResilienceOptions.ConcurrencyLimit"/>.
    /// </summary>
    ConcurrencyLimited,

    /// <summary>
    /// Adaptive throttling refused the request's attempt locally because the authority has been refusing most requests
    /// (<see cref="HttpResilienceOptions.AdaptiveThrottling"/>); the attempts count says whether earlier attempts were sent.
    /// </summary>
    Throttled,
}
