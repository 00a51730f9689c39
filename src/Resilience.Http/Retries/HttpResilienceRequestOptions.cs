using Resilience.AdaptiveConcurrency;

namespace Resilience.Http;

/// <summary>Keys for <see cref="HttpRequestMessage.Options"/> that adjust the resilience handler for one request.</summary>
public static class HttpResilienceRequestOptions
{
    /// <summary>Gets the key that allows (<see langword="true"/>) or forbids (<see langword="false"/>) retrying this request, whatever its method.</summary>
    /// <remarks>
    /// Set it to <see langword="true"/> on a <c>POST</c> the server handles idempotently without an <c>Idempotency-Key</c>
    /// header; set it to <see langword="false"/> to send even a <c>GET</c> at most once. Unset, the method and the
    /// <c>Idempotency-Key</c> header decide (see <see cref="HttpResilienceOptions.RetryUnsafeMethods"/>).
    /// </remarks>
    public static HttpRequestOptionsKey<bool> AllowRetry { get; } = new("Resilience.Http.AllowRetry");

    /// <summary>Gets the key of the request's priority for the adaptive concurrency limit (<see cref="HttpResilienceOptions.ConcurrencyLimit"/>).</summary>
    /// <remarks>
    /// Unset, a request is <see cref="CallPriority.Normal"/>. Under pressure <see cref="CallPriority.Sheddable"/> requests are
    /// refused first (they use at most <see cref="AdaptiveConcurrency.AdaptiveConcurrencyOptions.SheddableShare"/> of the limit and never wait),
    /// and <see cref="CallPriority.Critical"/> ones go to the front of the queue.
    /// </remarks>
    public static HttpRequestOptionsKey<CallPriority> Priority { get; } = new("Resilience.Http.Priority");
}
