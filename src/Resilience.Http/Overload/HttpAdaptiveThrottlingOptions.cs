using Resilience.AdaptiveThrottling;

namespace Resilience.Http;

/// <summary>Client-side adaptive throttling per authority (Core's <see cref="AdaptiveThrottler"/>, the SRE book's formula): whether it is on, and Core's options.</summary>
/// <remarks>
/// <para>Each attempt is a request; it is accepted unless the upstream answered with a status the handler counts as a
/// failure (429, 503 and the other transient statuses, or what <see cref="HttpResilienceOptions.ShouldHandleOutcome"/>
/// says) or failed transiently (connection refused or reset, an attempt timeout). When the authority accepts too few, a
/// share <c>max(0, (requests − Multiplier × accepts) / (requests + 1))</c> of the requests is refused locally, not sent,
/// and ends with <see cref="HttpResilienceOutcome.Throttled"/>. Requests the breaker refused do not count.</para>
/// </remarks>
public sealed class HttpAdaptiveThrottlingOptions
{
    /// <summary>Gets or sets a value indicating whether requests are throttled locally while the authority refuses most of them.</summary>
    /// <value>Defaults to <see langword="false"/>: the breaker already stops a dead upstream; throttling is for one that sheds load (429/503) under overload.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets Core's options of each authority's throttler: configuration keys <c>AdaptiveThrottling:Options:*</c>, Core's defaults and rules.</summary>
    /// <value>
    /// Core's defaults: <c>Multiplier</c> (K) 2, <c>Window</c> 30 s, <c>MinimumThroughput</c> 10. When
    /// <see cref="AdaptiveThrottlingOptions.ShouldHandle"/> is not set, the handler's own rule says which exceptions were not accepted.
    /// </value>
    public AdaptiveThrottlingOptions Options { get; } = new();
}
