using System.Net.Http.Json;
using ContentService.Providers;
using Microsoft.Extensions.Options;
using Resilience.Http;

namespace ContentService.Usage;

/// <summary>Usage options, bound from <c>Usage</c>.</summary>
internal sealed class UsageOptions
{
    public const string Section = "Usage";

    /// <summary>How long a fetched usage is served before the CMS is asked again (its usage API is rate limited). Default 30 s.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The CMS usage (the original's Cloudinary <c>/usage</c> call), fetched at most once per
/// <see cref="UsageOptions.CacheDuration"/> (one caller fetches, the others wait for it) through the <c>cms-usage</c>
/// client: Resilience.Http with its own breaker and its cached fallback, which answers the last good response with its
/// <c>Age</c> and the <see cref="HttpResilienceOutcome.Stale"/> marker while the CMS fails. With nothing cached (or
/// older than the fallback's <c>MaxStaleness</c>), <see cref="UpstreamUnavailableException"/>: never made-up figures.
/// </summary>
internal sealed class CmsUsageService(IHttpClientFactory clients, TimeProvider time, IOptions<UsageOptions> options) : IDisposable
{
    public const string ClientName = "cms-usage";
    private const string Unavailable = "The image CMS's usage is unavailable and no recent copy is cached; try again later.";
    private readonly SemaphoreSlim _fetching = new(1, 1);
    private volatile Fetched? _fresh;

    public async Task<CmsUsageResponse> GetAsync(CancellationToken ct)
    {
        if (Fresh() is { } cached)
        {
            return Respond(cached.Usage, time.GetUtcNow() - cached.At, stale: false);
        }

        await _fetching.WaitAsync(ct);
        try
        {
            // Whoever waited while another caller fetched takes that result.
            if (Fresh() is { } justFetched)
            {
                return Respond(justFetched.Usage, time.GetUtcNow() - justFetched.At, stale: false);
            }

            return await FetchAsync(ct);
        }
        finally
        {
            _fetching.Release();
        }
    }

    public void Dispose() => _fetching.Dispose();

    private async Task<CmsUsageResponse> FetchAsync(CancellationToken ct)
    {
        var client = clients.CreateClient(ClientName);
        try
        {
            using var response = await client.GetAsync(new Uri("cms/usage", UriKind.Relative), ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new UpstreamUnavailableException(UpstreamUnavailableException.Cms, Unavailable, response.Headers.RetryAfter?.Delta);
            }

            var usage = await response.Content.ReadFromJsonAsync<CmsUsage>(ct)
                ?? throw new InvalidDataException("The CMS answered its usage with an empty body.");
            if (HttpResilienceResponse.GetOutcome(response) == HttpResilienceOutcome.Stale)
            {
                // The handler's last good response: its Age is how long ago the CMS gave it. Not kept as fresh.
                return Respond(usage, response.Headers.Age ?? TimeSpan.Zero, stale: true);
            }

            _fresh = new Fetched(usage, time.GetUtcNow());
            return Respond(usage, TimeSpan.Zero, stale: false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or HttpResilienceException or InvalidDataException or System.Text.Json.JsonException or TaskCanceledException)
        {
            // A handler configured to throw, a cut or malformed answer: the CMS failed and nothing cached could stand in.
            throw new UpstreamUnavailableException(UpstreamUnavailableException.Cms, Unavailable, (e as HttpResilienceException)?.RetryAfter, e);
        }
    }

    private Fetched? Fresh() =>
        _fresh is { } f && time.GetUtcNow() - f.At < options.Value.CacheDuration ? f : null;

    private static CmsUsageResponse Respond(CmsUsage u, TimeSpan age, bool stale) => new(
        u.Plan, u.Images, u.StorageBytes, u.UsageCalls, u.CreditsUsed, u.CreditsLimit,
        u.CreditsLimit > 0 ? Math.Round(100 * u.CreditsUsed / u.CreditsLimit, 2) : null,
        u.UpdatedAt, Math.Max(0, Math.Round(age.TotalSeconds, 1)), stale,
        stale ? "The image CMS is failing; this is its last good answer." : null);

    private sealed record Fetched(CmsUsage Usage, DateTimeOffset At);
}
