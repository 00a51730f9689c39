using System.ComponentModel.DataAnnotations;

namespace ContentService.Security;

/// <summary>Per-client rate limit and the global concurrency limit, bound from <c>RateLimiting</c>.</summary>
internal sealed class RateLimitOptions
{
    public const string Section = "RateLimiting";

    /// <summary>Requests one client (API key, else remote address) may make per window.</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerWindow { get; set; } = 120;

    /// <summary>The window of <see cref="PermitsPerWindow"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests the whole service handles at once; more are queued up to <see cref="ConcurrencyQueueLimit"/>, then rejected.</summary>
    [Range(1, 100_000)]
    public int ConcurrencyLimit { get; set; } = 64;

    /// <summary>Requests waiting for a concurrency slot before new ones are rejected.</summary>
    [Range(0, 100_000)]
    public int ConcurrencyQueueLimit { get; set; } = 64;
}
