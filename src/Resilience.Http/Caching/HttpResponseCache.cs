using System.Security.Cryptography;
using System.Text;

namespace Resilience.Http;

/// <summary>The last good (2xx) response to each <c>GET</c> URI, bounded in entries and body size, served stale when the upstream fails.</summary>
/// <remarks>
/// <para>
/// Entries are keyed by the absolute URI plus a SHA-256 fingerprint of the request's <c>Authorization</c> and <c>Cookie</c>
/// headers, so a response fetched with one caller's credentials is never served to a request with other credentials.
/// Responses marked <c>Cache-Control: no-store</c> are not stored. Keys stay in memory and are never logged.
/// </para>
/// <para>Storing reads the body (up to <see cref="HttpCachedFallbackOptions.MaxBodyBytes"/>) before the caller sees the response.</para>
/// </remarks>
internal sealed class HttpResponseCache
{
    private readonly HttpCachedFallbackOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly BoundedLruMap<string, HttpResponseSnapshot> _entries;

    public HttpResponseCache(HttpCachedFallbackOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options;
        _timeProvider = timeProvider;
        _entries = new BoundedLruMap<string, HttpResponseSnapshot>(options.MaxEntries, StringComparer.Ordinal);
    }

    public int Count => _entries.Count;

    /// <summary>Returns whether the cache was built with these settings, so a reloaded client can keep its stored responses.</summary>
    public bool HasSettings(HttpCachedFallbackOptions options) =>
        options.MaxEntries == _options.MaxEntries && options.MaxBodyBytes == _options.MaxBodyBytes && options.MaxStaleness == _options.MaxStaleness;

    /// <summary>Returns whether a request can be answered from (or stored in) the cache: a <c>GET</c> to an absolute URI.</summary>
    public static bool IsEligible(HttpRequestMessage request) =>
        request.Method == HttpMethod.Get && request.RequestUri is { IsAbsoluteUri: true };

    /// <summary>Stores <paramref name="response"/> when it is a 2xx answer to an eligible request, not <c>no-store</c>, and small enough.</summary>
    /// <returns><see langword="true"/> when stored. The response stays readable for the caller either way.</returns>
    public async ValueTask<bool> StoreAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(response);
        if (!IsEligible(request) || !response.IsSuccessStatusCode || response.Headers.CacheControl?.NoStore == true)
        {
            return false;
        }

        var snapshot = await HttpResponseSnapshot.CaptureAsync(response, _options.MaxBodyBytes, _timeProvider.GetTimestamp(), cancellationToken).ConfigureAwait(false);
        if (snapshot is null)
        {
            return false;
        }

        _entries.Set(KeyOf(request), snapshot);
        return true;
    }

    /// <summary>Creates a stale response for <paramref name="request"/> from its stored snapshot when one exists and is within <see cref="HttpCachedFallbackOptions.MaxStaleness"/>.</summary>
    /// <param name="request">The failed request.</param>
    /// <param name="response">A new response with <c>Age</c> and the <see cref="HttpResilienceOutcome.Stale"/> marker.</param>
    /// <param name="age">How long the snapshot has been stored.</param>
    public bool TryCreateStaleResponse(HttpRequestMessage request, out HttpResponseMessage? response, out TimeSpan age)
    {
        ArgumentNullException.ThrowIfNull(request);
        response = null;
        age = TimeSpan.Zero;
        if (!IsEligible(request))
        {
            return false;
        }

        var key = KeyOf(request);
        if (!_entries.TryGetValue(key, out var snapshot))
        {
            return false;
        }

        age = _timeProvider.GetElapsedTime(snapshot.StoredAt);
        if (age > _options.MaxStaleness)
        {
            // Too old to ever be served again: free the memory now.
            _entries.Remove(key);
            return false;
        }

        response = snapshot.CreateResponse(request, age);
        return true;
    }

    private static string KeyOf(HttpRequestMessage request)
    {
        var uri = request.RequestUri!.AbsoluteUri;
        var headers = request.Headers.NonValidated;
        var hasAuthorization = headers.TryGetValues("Authorization", out var authorization);
        var hasCookie = headers.TryGetValues("Cookie", out var cookie);
        if (!hasAuthorization && !hasCookie)
        {
            return uri;
        }

        var credentials = Encoding.UTF8.GetBytes(authorization.ToString() + "\n" + cookie.ToString());
        return uri + "\n" + Convert.ToHexString(SHA256.HashData(credentials));
    }
}
