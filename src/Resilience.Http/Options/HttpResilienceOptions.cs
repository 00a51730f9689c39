using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Resilience.Http;

/// <summary>Options of the resilience handler of one named <see cref="HttpClient"/>.</summary>
/// <remarks>
/// <para>
/// Binds from configuration (times as <c>hh:mm:ss</c>, enums by name) and is validated at start-up: every broken rule is
/// reported at once, naming the key and the rule.
/// </para>
/// <para>
/// The times depend on each other, and a time that is not set is derived from the ones that are, so setting one alone
/// (say <c>TotalTimeout = 10 s</c>) never clashes with a default: <see cref="AttemptTimeout"/> = min(10 s,
/// <see cref="TotalTimeout"/>), <see cref="MaxDelay"/> = min(15 s, <see cref="TotalTimeout"/> / 2),
/// <see cref="BaseDelay"/> = min(1 s, <see cref="MaxDelay"/>), <see cref="TotalTimeout"/> = max(30 s,
/// <see cref="AttemptTimeout"/>). Only values that were both set are checked against each other:
/// <see cref="AttemptTimeout"/> ≤ <see cref="TotalTimeout"/>, <see cref="BaseDelay"/> ≤ <see cref="MaxDelay"/>,
/// <see cref="MaxDelay"/> &lt; <see cref="TotalTimeout"/>.
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
    // The four times depend on each other: unset ones are derived from set ones, so setting one never contradicts a default.
    private TimeSpan? _totalTimeout;
    private TimeSpan? _attemptTimeout;
    private TimeSpan? _baseDelay;
    private TimeSpan? _maxDelay;

    /// <summary>Gets or sets the time allowed for the whole request, all attempts and the delays between them included.</summary>
    /// <value>
    /// Defaults to 30 seconds, or to <see cref="AttemptTimeout"/> when that is set longer. Between 1 millisecond and 1 day;
    /// not less than <see cref="AttemptTimeout"/> when both are set.
    /// </value>
    [TimeSpanRange(HttpResilienceDefaults.MinTimeout, HttpResilienceDefaults.MaxTimeout)]
    public TimeSpan TotalTimeout
    {
        get => _totalTimeout ?? HttpResilienceDefaults.DeriveTotalTimeout(_attemptTimeout);
        set => _totalTimeout = value;
    }

    /// <summary>Gets or sets the time allowed for one attempt; an attempt that runs out of it counts as a transient failure.</summary>
    /// <value>
    /// Defaults to 10 seconds, or to <see cref="TotalTimeout"/> when that is set shorter. Between 1 millisecond and 1 day;
    /// at most <see cref="TotalTimeout"/> when both are set.
    /// </value>
    [TimeSpanRange(HttpResilienceDefaults.MinTimeout, HttpResilienceDefaults.MaxTimeout)]
    public TimeSpan AttemptTimeout
    {
        get => _attemptTimeout ?? HttpResilienceDefaults.DeriveAttemptTimeout(TotalTimeout);
        set => _attemptTimeout = value;
    }

    /// <summary>Gets or sets how many times a failed request is tried again; 0 disables retries.</summary>
    /// <value>Defaults to 3. Between 0 and 100.</value>
    [Range(0, HttpResilienceDefaults.MaxRetriesBound)]
    public int MaxRetries { get; set; } = HttpResilienceDefaults.MaxRetries;

    /// <summary>Gets or sets the delay before the first retry; later delays grow exponentially, with jitter.</summary>
    /// <value>
    /// Defaults to 1 second, or to <see cref="MaxDelay"/> when that is shorter. Between 0 and 1 hour; at most
    /// <see cref="MaxDelay"/> when both are set.
    /// </value>
    [TimeSpanRange(HttpResilienceDefaults.MinDelay, HttpResilienceDefaults.MaxDelayBound)]
    public TimeSpan BaseDelay
    {
        get => _baseDelay ?? HttpResilienceDefaults.DeriveBaseDelay(MaxDelay);
        set => _baseDelay = value;
    }

    /// <summary>Gets or sets the longest delay between attempts, including one asked for by a server's <c>Retry-After</c>.</summary>
    /// <value>
    /// Defaults to 15 seconds or half of <see cref="TotalTimeout"/>, whichever is shorter (but not below a
    /// <see cref="BaseDelay"/> that is set). Between 0 and 1 hour; less than <see cref="TotalTimeout"/> when both are set.
    /// </value>
    /// <remarks>
    /// A <c>Retry-After</c> hint longer than this, or a delay (hinted or computed) longer than the time left of
    /// <see cref="TotalTimeout"/>, is not waited for: the request ends at once with the upstream's answer.
    /// </remarks>
    [TimeSpanRange(HttpResilienceDefaults.MinDelay, HttpResilienceDefaults.MaxDelayBound)]
    public TimeSpan MaxDelay
    {
        get => _maxDelay ?? HttpResilienceDefaults.DeriveMaxDelay(TotalTimeout, _baseDelay);
        set => _maxDelay = value;
    }

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

    /// <summary>Gets the options of hedged <c>GET</c> and <c>HEAD</c> requests.</summary>
    /// <value>Disabled by default.</value>
    [ValidateObjectMembers]
    public HttpHedgingOptions Hedging { get; } = new();

    /// <summary>Gets the options of the adaptive concurrency limit, one per authority (or one in shared scope).</summary>
    /// <value>Disabled by default.</value>
    public HttpConcurrencyLimitOptions ConcurrencyLimit { get; } = new();

    /// <summary>Gets the options of client-side adaptive throttling, one throttler per authority (or one in shared scope).</summary>
    /// <value>Disabled by default.</value>
    public HttpAdaptiveThrottlingOptions AdaptiveThrottling { get; } = new();

    /// <summary>Gets or sets how a request that ends in a failure the handler handles is reported: a marked response, or an exception.</summary>
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
    public Func<Outcome<HttpResponseMessage>, bool>? ShouldHandleOutcome { get; set; }

    /// <summary>Gets the options of fault injection (chaos): fault responses, latency and exceptions in place of real attempts.</summary>
    /// <value>Disabled by default.</value>
    [ValidateObjectMembers]
    public HttpFaultInjectionOptions FaultInjection { get; } = new();

    /// <summary>Gets or sets a callback invoked as a retry is scheduled, with the request and the failed attempt's outcome.</summary>
    /// <value>Defaults to <see langword="null"/>. Not bindable from configuration.</value>
    /// <remarks>The callbacks run on the request's path: keep them quick, and do not read or dispose the response.</remarks>
    public Action<HttpRetryArguments>? OnRetry { get; set; }

    /// <summary>Gets or sets a callback invoked when an authority's circuit opens, with the request whose attempt opened it.</summary>
    /// <value>Defaults to <see langword="null"/>. Not bindable from configuration.</value>
    public Action<HttpCircuitArguments>? OnCircuitOpened { get; set; }

    /// <summary>Gets or sets a callback invoked when an authority's circuit closes again.</summary>
    /// <value>Defaults to <see langword="null"/>. Not bindable from configuration.</value>
    public Action<HttpCircuitArguments>? OnCircuitClosed { get; set; }

    /// <summary>Gets or sets a callback invoked when an authority's circuit turns half-open to let a probe through.</summary>
    /// <value>Defaults to <see langword="null"/>. Not bindable from configuration.</value>
    public Action<HttpCircuitArguments>? OnCircuitHalfOpened { get; set; }

    /// <summary>Gets or sets a callback invoked as a hedged copy of a request starts.</summary>
    /// <value>Defaults to <see langword="null"/>. Not bindable from configuration.</value>
    public Action<HttpHedgingArguments>? OnHedging { get; set; }

    /// <summary>Gets or sets a callback invoked when a stored response is served in place of a failure (<see cref="CachedFallback"/>).</summary>
    /// <value>Defaults to <see langword="null"/>. Not bindable from configuration.</value>
    public Action<HttpFallbackArguments>? OnFallback { get; set; }

    /// <summary>Gets or sets a function that adds layers of your own to each authority's pipeline, given the builder and the authority (<c>scheme://host:port</c>, or <c>*</c> when breakers are shared).</summary>
    /// <value>Defaults to <see langword="null"/>. Not bindable from configuration.</value>
    /// <remarks>
    /// Add layers with <c>AddLayer</c> at a <see cref="CustomLayerPosition"/> (<see cref="CustomLayerPosition.Attempt"/> runs
    /// once per attempt); the request is in the context (<see cref="HttpResilienceProperties.GetRequest"/>). Replacing the
    /// handler's own layers (retry, breaker, timeouts, hedging) is not supported.
    /// </remarks>
    public Action<ResiliencePipelineBuilder<HttpResponseMessage>, string>? ConfigurePipeline { get; set; }

    /// <summary>Gets a value indicating whether <see cref="TotalTimeout"/> was set (not derived).</summary>
    internal bool TotalTimeoutIsSet => _totalTimeout.HasValue;

    /// <summary>Gets a value indicating whether <see cref="AttemptTimeout"/> was set (not derived).</summary>
    internal bool AttemptTimeoutIsSet => _attemptTimeout.HasValue;

    /// <summary>Gets a value indicating whether <see cref="BaseDelay"/> was set (not derived).</summary>
    internal bool BaseDelayIsSet => _baseDelay.HasValue;

    /// <summary>Gets a value indicating whether <see cref="MaxDelay"/> was set (not derived).</summary>
    internal bool MaxDelayIsSet => _maxDelay.HasValue;

    /// <summary>Creates options holding the <c>standard</c> preset, which is also what a new instance holds.</summary>
    /// <returns>New options: 30 s total, 10 s per attempt, 3 retries from 1 s up to 15 s within a retry budget, a breaker
    /// per authority that opens after 5 consecutive failures for 30 s, 1 MiB of buffered request content, no cached
    /// fallback, failures as 503.</returns>
    public static HttpResilienceOptions Standard() => new();
}
