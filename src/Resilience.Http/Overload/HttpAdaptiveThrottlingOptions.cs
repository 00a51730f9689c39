using Resilience.AdaptiveThrottling;

namespace Resilience.Http;

/// <summary>Options of client-side adaptive throttling per authority (Core's <see cref="AdaptiveThrottler"/>, the SRE book's formula).</summary>
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

    /// <summary>Gets or sets K: how many requests per accepted one are still sent. Lower sheds earlier.</summary>
    /// <value>Defaults to 2; between 1 and 100.</value>
    public double Multiplier { get; set; } = 2.0;

    /// <summary>Gets or sets the sliding window of requests and accepts.</summary>
    /// <value>Defaults to 30 s; between 1 s and 1 hour.</value>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many requests the window must hold before any is refused.</summary>
    /// <value>Defaults to 10; not negative.</value>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>The Core options these values make (validated by Core's rules).</summary>
    internal AdaptiveThrottlingOptions ToCore() => new() { Multiplier = Multiplier, Window = Window, MinimumThroughput = MinimumThroughput };

    /// <summary>Whether two Core option sets hold the same values, so a reload can keep the throttler's window.</summary>
    internal static bool SameSettings(AdaptiveThrottlingOptions a, AdaptiveThrottlingOptions b) =>
        a.Multiplier == b.Multiplier && a.Window == b.Window && a.MinimumThroughput == b.MinimumThroughput;
}
