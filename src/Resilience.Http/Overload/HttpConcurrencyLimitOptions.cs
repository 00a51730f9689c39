using Resilience.AdaptiveConcurrency;

namespace Resilience.Http;

/// <summary>The adaptive concurrency limit of each authority (Core's <see cref="AdaptiveConcurrencyLimiter"/>, one per authority): whether it is on, and Core's options.</summary>
/// <remarks>
/// <para>The limit follows the upstream's latency: it shrinks when the upstream slows down under load and grows while its
/// latency holds, between <see cref="AdaptiveConcurrencyOptions.MinLimit"/> and <see cref="AdaptiveConcurrencyOptions.MaxLimit"/>.
/// A request over the limit waits in a short queue (at most <see cref="AdaptiveConcurrencyOptions.MaxQueueWait"/>, less when the
/// total timeout says so) and is otherwise not sent: it ends with <see cref="HttpResilienceOutcome.ConcurrencyLimited"/> (a 503
/// with <c>Retry-After</c>, or the exception surface).</para>
/// <para>Mark a request critical or sheddable with <see cref="HttpResilienceRequestOptions.Priority"/>: sheddable requests
/// use at most <see cref="AdaptiveConcurrencyOptions.SheddableShare"/> of the limit and never queue, critical ones go to the front of the queue.</para>
/// </remarks>
public sealed class HttpConcurrencyLimitOptions
{
    /// <summary>Gets or sets a value indicating whether each authority's requests pass an adaptive concurrency limit.</summary>
    /// <value>
    /// Defaults to <see langword="false"/>: a client's concurrency is often a burst it means to send (a fan-out), which a limit
    /// still growing from <see cref="AdaptiveConcurrencyOptions.InitialLimit"/> would refuse; turn it on for upstreams that slow down under load.
    /// </value>
    public bool Enabled { get; set; }

    /// <summary>Gets Core's options of each authority's limiter: configuration keys <c>ConcurrencyLimit:Options:*</c>, Core's defaults and rules.</summary>
    /// <value>Core's defaults: <c>InitialLimit</c> 8, <c>MinLimit</c> 2, <c>MaxLimit</c> 1,000, <c>QueueLimit</c> 16, <c>MaxQueueWait</c> 250 ms, <c>Tolerance</c> 1.25, <c>Smoothing</c> 0.5.</value>
    public AdaptiveConcurrencyOptions Options { get; } = new();
}
