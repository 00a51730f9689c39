using System.ComponentModel.DataAnnotations;

namespace Resilience.Http;

/// <summary>Options of the cached fallback: the last good response to a <c>GET</c>, served when the upstream fails.</summary>
/// <remarks>
/// Only <c>GET</c> requests that got a 2xx response are stored, per absolute URI, with their body of at most
/// <see cref="MaxBodyBytes"/>. A stored response is served, with an <c>Age</c> header and the
/// <see cref="HttpResilienceOutcome.Stale"/> marker, when a later request to the same URI fails with a transient
/// failure or is rejected by an open circuit, and only while it is younger than <see cref="MaxStaleness"/>.
/// </remarks>
public sealed class HttpCachedFallbackOptions
{
    /// <summary>Gets or sets a value indicating whether failed <c>GET</c> requests may be answered with the last good response.</summary>
    /// <value>Defaults to <see langword="false"/>: serving stale data is a decision for each client.</value>
    public bool Enabled { get; set; } = HttpResilienceDefaults.CachedFallbackEnabled;

    /// <summary>Gets or sets how many URIs are remembered; the least recently used one is evicted beyond it.</summary>
    /// <value>Defaults to 256. Between 1 and 100,000.</value>
    [Range(1, HttpResilienceDefaults.MaxEntriesBound)]
    public int MaxEntries { get; set; } = HttpResilienceDefaults.CachedFallbackMaxEntries;

    /// <summary>Gets or sets the largest response body that is stored; larger responses pass through and are not remembered.</summary>
    /// <value>Defaults to 262,144 bytes (256 KiB). Between 0 and 2,147,483,647.</value>
    [Range(0, int.MaxValue)]
    public int MaxBodyBytes { get; set; } = HttpResilienceDefaults.CachedFallbackMaxBodyBytes;

    /// <summary>Gets or sets the age beyond which a stored response is no longer served.</summary>
    /// <value>Defaults to 5 minutes. Between 1 millisecond and 7 days.</value>
    [TimeSpanRange(HttpResilienceDefaults.MinBreak, HttpResilienceDefaults.MaxStaleness)]
    public TimeSpan MaxStaleness { get; set; } = HttpResilienceDefaults.CachedFallbackMaxStaleness;
}
