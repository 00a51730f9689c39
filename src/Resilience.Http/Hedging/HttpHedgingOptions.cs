using System.ComponentModel.DataAnnotations;

namespace Resilience.Http;

/// <summary>Options of hedged <c>GET</c> and <c>HEAD</c> requests: a copy of a slow request is sent while the first is still waiting, and the first good response wins.</summary>
/// <remarks>
/// Only <c>GET</c> and <c>HEAD</c> requests without a body are hedged (and not those with
/// <see cref="HttpResilienceRequestOptions.AllowRetry"/> set to <see langword="false"/>); every other request is sent
/// as before. Each hedged request is a copy of the caller's (method, URI, version, headers and options) and passes the
/// authority's circuit breaker and the attempt timeout on its own; the responses and requests that lose are cancelled
/// and disposed. A transient failure (connection error, attempt timeout, 408, 500, 502, 503, 504) sends the next copy at
/// once; a 429 or a response with <c>Retry-After</c> does not, so the server's request to slow down is honoured by the
/// retries instead.
/// </remarks>
public sealed class HttpHedgingOptions
{
    /// <summary>Gets or sets a value indicating whether <c>GET</c> and <c>HEAD</c> requests are hedged.</summary>
    /// <value>Defaults to <see langword="false"/>: hedging adds load to the upstream, so it is a decision for each client.</value>
    public bool Enabled { get; set; } = HttpResilienceDefaults.HedgingEnabled;

    /// <summary>Gets or sets how long to wait for a response before the next copy of the request is sent.</summary>
    /// <value>Defaults to 2 seconds; between 0 (every copy at once) and 1 hour. Set it near the upstream's 95th-percentile latency.</value>
    [TimeSpanRange(HttpResilienceDefaults.MinDelay, HttpResilienceDefaults.MaxDelayBound)]
    public TimeSpan Delay { get; set; } = HttpResilienceDefaults.HedgingDelay;

    /// <summary>Gets or sets how many copies may be sent besides the first request.</summary>
    /// <value>Defaults to 1. Between 1 and 10.</value>
    [Range(1, HttpResilienceDefaults.MaxHedgedAttemptsBound)]
    public int MaxHedgedAttempts { get; set; } = HttpResilienceDefaults.MaxHedgedAttempts;

    /// <summary>Gets the endpoint groups the attempts are sent to (ordered failover or weighted); none by default, when every copy goes to the request's URI.</summary>
    public HttpRoutingOptions Routing { get; } = new();
}
