using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Resilience.Http;

/// <summary>Options of the resilience handler of one named <see cref="HttpClient"/>.</summary>
/// <remarks>
/// <para>
/// Binds from configuration (times as <c>hh:mm:ss</c>, enums by name) and is validated at start-up: every broken rule is
/// reported at once, naming the key and the rule. Cross-field rules: <see cref="AttemptTimeout"/> ≤
/// <see cref="TotalTimeout"/>, <see cref="BaseDelay"/> ≤ <see cref="MaxDelay"/>, <see cref="MaxDelay"/> &lt;
/// <see cref="TotalTimeout"/>.
/// </para>
/// <para>
/// A new instance holds the <c>standard</c> preset (see <see cref="Standard"/>). Compared with the standard handler of
/// Microsoft.Extensions.Http.Resilience it keeps the 30 s total and 10 s attempt timeouts and three retries, starts
/// retries after 1 s instead of 2 s, and breaks per authority on 5 consecutive failures for 30 s instead of on a 10 %
/// failure ratio with a minimum throughput of 100 for 5 s, which never opens for low-traffic clients.
/// </para>
/// </remarks>
public sealed class HttpResilienceOptions
{
    /// <summary>Gets or sets the time allowed for the whole request, all attempts and the delays between them included.</summary>
    /// <value>Defaults to 30 seconds. Between 1 millisecond and 1 day; not less than <see cref="AttemptTimeout"/>.</value>
    [TimeSpanRange(HttpResilienceDefaults.MinTimeout, HttpResilienceDefaults.MaxTimeout)]
    public TimeSpan TotalTimeout { get; set; } = HttpResilienceDefaults.TotalTimeout;

    /// <summary>Gets or sets the time allowed for one attempt; an attempt that runs out of it counts as a transient failure.</summary>
    /// <value>Defaults to 10 seconds. Between 1 millisecond and 1 day; at most <see cref="TotalTimeout"/>.</value>
    [TimeSpanRange(HttpResilienceDefaults.MinTimeout, HttpResilienceDefaults.MaxTimeout)]
    public TimeSpan AttemptTimeout { get; set; } = HttpResilienceDefaults.AttemptTimeout;

    /// <summary>Gets or sets how many times a failed request is tried again; 0 disables retries.</summary>
    /// <value>Defaults to 3. Between 0 and 100.</value>
    [Range(0, HttpResilienceDefaults.MaxRetriesBound)]
    public int MaxRetries { get; set; } = HttpResilienceDefaults.MaxRetries;

    /// <summary>Gets or sets the delay before the first retry; later delays grow exponentially, with jitter.</summary>
    /// <value>Defaults to 1 second. Between 0 and 1 hour; at most <see cref="MaxDelay"/>.</value>
    [TimeSpanRange(HttpResilienceDefaults.MinDelay, HttpResilienceDefaults.MaxDelayBound)]
    public TimeSpan BaseDelay { get; set; } = HttpResilienceDefaults.BaseDelay;

    /// <summary>Gets or sets the longest delay between attempts, including one asked for by a server's <c>Retry-After</c>.</summary>
    /// <value>Defaults to 15 seconds. Between 0 and 1 hour; less than <see cref="TotalTimeout"/>.</value>
    /// <remarks>
    /// A <c>Retry-After</c> hint longer than this, or longer than the time left of <see cref="TotalTimeout"/>, is not
    /// waited for: the request fails at once and reports the server's hint.
    /// </remarks>
    [TimeSpanRange(HttpResilienceDefaults.MinDelay, HttpResilienceDefaults.MaxDelayBound)]
    public TimeSpan MaxDelay { get; set; } = HttpResilienceDefaults.MaxDelay;

    /// <summary>Gets or sets how many consecutive failed attempts open the circuit.</summary>
    /// <value>Defaults to 5. Between 1 and 10,000.</value>
    [Range(1, HttpResilienceDefaults.MaxFailureThresholdBound)]
    public int FailureThreshold { get; set; } = HttpResilienceDefaults.FailureThreshold;

    /// <summary>Gets or sets how long an open circuit rejects requests before it lets a probe through.</summary>
    /// <value>Defaults to 30 seconds. Between 1 millisecond and 1 day.</value>
    [TimeSpanRange(HttpResilienceDefaults.MinBreak, HttpResilienceDefaults.MaxBreak)]
    public TimeSpan BreakDuration { get; set; } = HttpResilienceDefaults.BreakDuration;

    /// <summary>Gets or sets which requests share a circuit breaker.</summary>
    /// <value>Defaults to <see cref="HttpCircuitBreakerScope.PerAuthority"/>.</value>
    [EnumDataType(typeof(HttpCircuitBreakerScope))]
    public HttpCircuitBreakerScope BreakerScope { get; set; } = HttpCircuitBreakerScope.PerAuthority;

    /// <summary>Gets or sets how many authorities keep their own breaker; the least recently used one is forgotten beyond it.</summary>
    /// <value>Defaults to 64. Between 1 and 10,000.</value>
    /// <remarks>Bounds memory when a client follows URIs it does not control (redirects, links in responses).</remarks>
    [Range(1, HttpResilienceDefaults.MaxTrackedAuthoritiesBound)]
    public int MaxTrackedAuthorities { get; set; } = HttpResilienceDefaults.MaxTrackedAuthorities;

    /// <summary>Gets or sets a value indicating whether <c>POST</c>, <c>PATCH</c> and other non-idempotent requests are retried.</summary>
    /// <value>Defaults to <see langword="false"/>: they are retried only when they carry an <c>Idempotency-Key</c> header or
    /// <see cref="HttpResilienceRequestOptions.AllowRetry"/>.</value>
    public bool RetryUnsafeMethods { get; set; }

    /// <summary>Gets or sets the largest request body that is buffered so a retry can send it again.</summary>
    /// <value>Defaults to 1,048,576 bytes (1 MiB). Between 0 and 2,147,483,647.</value>
    /// <remarks>
    /// A body that is larger, or a stream of unknown length that turns out larger, is sent once and its request is
    /// not retried. Bodies already held in memory (<see cref="ByteArrayContent"/>, <see cref="StringContent"/>,
    /// <see cref="ReadOnlyMemoryContent"/>, <see cref="FormUrlEncodedContent"/>) are resent without copying, whatever
    /// their size.
    /// </remarks>
    [Range(0, int.MaxValue)]
    public int MaxBufferedContentBytes { get; set; } = HttpResilienceDefaults.MaxBufferedContentBytes;

    /// <summary>Gets the options of the retry budget, one token bucket per authority (or one in shared scope).</summary>
    /// <value>Enabled by default: a burst of 10 retries, refilled by 0.1 per success, at least 1 retry per second.</value>
    [ValidateObjectMembers]
    public HttpRetryBudgetOptions RetryBudget { get; } = new();

    /// <summary>Gets the options of the cached <c>GET</c> fallback.</summary>
    /// <value>Disabled by default.</value>
    [ValidateObjectMembers]
    public HttpCachedFallbackOptions CachedFallback { get; } = new();

    /// <summary>Gets or sets how a request the handler gave up on is reported.</summary>
    /// <value>Defaults to <see cref="HttpFailureSurface.Response503"/>.</value>
    [EnumDataType(typeof(HttpFailureSurface))]
    public HttpFailureSurface FailureSurface { get; set; } = HttpFailureSurface.Response503;

    /// <summary>Gets or sets the predicate that decides whether an attempt failed transiently (and is retried and counted by the breaker).</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: connection failures (<see cref="HttpRequestException"/>), the handler's own
    /// attempt timeouts (a <see cref="TimeoutException"/>) and the statuses 408, 429, 500, 502, 503 and 504.
    /// </value>
    /// <remarks>
    /// The caller's own cancellation never reaches the predicate: it always propagates as
    /// <see cref="OperationCanceledException"/>. Not bindable from configuration.
    /// </remarks>
    public Func<Outcome<HttpResponseMessage>, bool>? IsTransient { get; set; }

    /// <summary>Creates options holding the <c>standard</c> preset, which is also what a new instance holds.</summary>
    /// <returns>New options: 30 s total, 10 s per attempt, 3 retries from 1 s up to 15 s within a retry budget, a breaker
    /// per authority that opens after 5 consecutive failures for 30 s, 1 MiB of buffered request content, no cached
    /// fallback, failures as 503.</returns>
    public static HttpResilienceOptions Standard() => new();
}
