namespace Resilience.AdaptiveThrottling;

/// <summary>
/// Client-side adaptive throttling (Google SRE book, "Handling Overload"): when the dependency accepts fewer and fewer
/// requests, the client refuses a share of them locally, with probability
/// <c>max(0, (requests − Multiplier × accepts) / (requests + 1))</c> over the last <see cref="Window"/>.
/// </summary>
public sealed class AdaptiveThrottlingOptions
{
    /// <summary>Initializes a new instance of the <see cref="AdaptiveThrottlingOptions"/> class with the defaults.</summary>
    public AdaptiveThrottlingOptions()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AdaptiveThrottlingOptions"/> class as a copy of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy.</param>
    public AdaptiveThrottlingOptions(AdaptiveThrottlingOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Multiplier = other.Multiplier;
        Window = other.Window;
        MinimumThroughput = other.MinimumThroughput;
        ShouldHandle = other.ShouldHandle;
        OnThrottled = other.OnThrottled;
    }

    /// <summary>Gets or sets K: how many requests per accepted one the client still sends. Lower sheds earlier.</summary>
    /// <value>Default: 2 (the SRE book's); at least 1.</value>
    public double Multiplier { get; set; } = 2.0;

    /// <summary>Gets or sets the window of requests and accepts; it slides in tenths, so a recovered dependency gets traffic back within it.</summary>
    /// <value>Default: 30 s.</value>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many requests the window must hold before any is refused (a quiet client's first failures shed nothing).</summary>
    /// <value>Default: 10.</value>
    public int MinimumThroughput { get; set; } = 10;

    /// <summary>
    /// Gets or sets which exceptions mean the dependency did not accept the request. Results the pipeline handles
    /// (<c>ShouldHandleResult</c>, e.g. an HTTP 429 or 503) never count as accepted; refusals by the layers inside
    /// (an open circuit) do not count at all, since nothing was sent.
    /// </summary>
    /// <value>Default: <see langword="null"/>, every exception but the caller's cancellation.</value>
    public Func<Exception, bool>? ShouldHandle { get; set; }

    /// <summary>Gets or sets a callback told of each request refused locally (keep it short: it runs on the caller's thread).</summary>
    public Action<ThrottledArguments>? OnThrottled { get; set; }

    /// <summary>Whether two option sets hold the same values (callbacks aside), so a reload can keep a throttler and its window.</summary>
    internal static bool SameValues(AdaptiveThrottlingOptions a, AdaptiveThrottlingOptions b) =>
        a.Multiplier == b.Multiplier && a.Window == b.Window && a.MinimumThroughput == b.MinimumThroughput;
}
