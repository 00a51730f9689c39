using System.ComponentModel.DataAnnotations;

namespace ContentService.Security;

/// <summary>Per-client rate limit and the global concurrency limit, bound from <c>RateLimiting</c>.</summary>
internal sealed class RateLimitOptions : IValidatableObject
{
    public const string Section = "RateLimiting";

    /// <summary>Requests one client (API key, else remote address) may make per window.</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerWindow { get; set; } = 120;

    /// <summary>
    /// Requests one client may make to the status page (<c>/status</c>, its files and data) per window, counted apart
    /// from the API's allowance: an open page (about 5 requests per 10 s) never uses up a client's API calls, and an
    /// API burst never blanks the operator's page. Health probes are never limited.
    /// </summary>
    [Range(1, 1_000_000)]
    public int StatusPermitsPerWindow { get; set; } = 60;

    /// <summary>
    /// Addresses of reverse proxies whose <c>X-Forwarded-For</c> is believed, so each client behind them gets its own
    /// allowance. Empty (the default): the header is ignored, since anyone could send it.
    /// </summary>
    public List<string> KnownProxies { get; init; } = [];

    /// <summary>The window of <see cref="PermitsPerWindow"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Requests the whole service handles at once; more are queued up to <see cref="ConcurrencyQueueLimit"/>, then rejected.</summary>
    [Range(1, 100_000)]
    public int ConcurrencyLimit { get; set; } = 64;

    /// <summary>Requests waiting for a concurrency slot before new ones are rejected.</summary>
    [Range(0, 100_000)]
    public int ConcurrencyQueueLimit { get; set; } = 64;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var proxy in KnownProxies)
        {
            if (!System.Net.IPAddress.TryParse(proxy, out _))
            {
                yield return new ValidationResult($"RateLimiting:KnownProxies: '{proxy}' is not an IP address.", [nameof(KnownProxies)]);
            }
        }
    }
}
