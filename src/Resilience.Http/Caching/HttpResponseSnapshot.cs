using System.Buffers;
using System.Net;
using System.Net.Http.Headers;

namespace Resilience.Http;

/// <summary>A stored copy of a response (status, headers, content headers, body bytes) that can be turned into a fresh response any number of times.</summary>
/// <remarks>HTTP-specific and separate from the storage, so a generic cache can hold these later.</remarks>
internal sealed class HttpResponseSnapshot
{
    private const int CopyChunkBytes = 16 * 1024;

    // Hop-by-hop fields describe one connection, not the response; Age is recomputed when served.
    private static readonly HashSet<string> SkippedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "TE", "Trailer",
        "Age", HttpResilienceResponse.OutcomeHeader,
    };

    private readonly KeyValuePair<string, string[]>[] _headers;
    private readonly KeyValuePair<string, string[]>[] _contentHeaders;
    private readonly byte[] _body;

    private HttpResponseSnapshot(HttpResponseMessage response, byte[] body, long storedAt)
    {
        StatusCode = response.StatusCode;
        Version = response.Version;
        ReasonPhrase = response.ReasonPhrase;
        _headers = Copy(response.Headers, skipContentLength: false);
        _contentHeaders = Copy(response.Content.Headers, skipContentLength: true);
        _body = body;
        StoredAt = storedAt;
        UpstreamAge = response.Headers.Age ?? TimeSpan.Zero;
    }

    public HttpStatusCode StatusCode { get; }

    public Version Version { get; }

    public string? ReasonPhrase { get; }

    /// <summary>Gets when the snapshot was taken, as a <see cref="TimeProvider.GetTimestamp"/> value.</summary>
    public long StoredAt { get; }

    /// <summary>Gets the <c>Age</c> the upstream response already had (from a cache in front of the server).</summary>
    public TimeSpan UpstreamAge { get; }

    public ReadOnlyMemory<byte> Body => _body;

    /// <summary>
    /// Reads the body of <paramref name="response"/> (at most <paramref name="maxBodyBytes"/>) and returns a snapshot, or
    /// <see langword="null"/> when it is larger. Either way the response stays fully readable for the caller: its content
    /// is replaced by one over the bytes read (and, when too large, the rest of the stream).
    /// </summary>
    public static async ValueTask<HttpResponseSnapshot?> CaptureAsync(HttpResponseMessage response, int maxBodyBytes, long timestamp, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var content = response.Content;
        if (content.Headers.ContentLength is { } declared && declared > maxBodyBytes)
        {
            return null;
        }

        var source = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(CopyChunkBytes);
        try
        {
            int read;
            while ((read = await source.ReadAsync(chunk.AsMemory(0, CopyChunkBytes), cancellationToken).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > maxBodyBytes)
                {
                    var rest = new PrefixedStreamContent(buffer.ToArray(), source, owner: content);
                    CopyContentHeaders(content, rest);
                    response.Content = rest;
                    return null;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        var body = buffer.ToArray();
        var snapshot = new HttpResponseSnapshot(response, body, timestamp);
        var replay = new ByteArrayContent(body);
        CopyContentHeaders(content, replay);
        response.Content = replay;
        content.Dispose();
        return snapshot;
    }

    /// <summary>Creates a new response from the snapshot for <paramref name="request"/>, with <c>Age</c> and the stale marker.</summary>
    /// <param name="request">The request being answered.</param>
    /// <param name="age">How long the snapshot has been stored; added to the upstream's own <c>Age</c>, in whole seconds.</param>
    public HttpResponseMessage CreateResponse(HttpRequestMessage request, TimeSpan age)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new HttpResponseMessage(StatusCode) { Version = Version, ReasonPhrase = ReasonPhrase };
        foreach (var header in _headers)
        {
            response.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        var content = new ByteArrayContent(_body);
        foreach (var header in _contentHeaders)
        {
            content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = content;
        var total = UpstreamAge + (age < TimeSpan.Zero ? TimeSpan.Zero : age);
        response.Headers.Age = TimeSpan.FromSeconds(Math.Floor(total.TotalSeconds));
        // The handler marks it again with the attempts the failed request made.
        OutcomeMarker.Mark(request, response, HttpResilienceOutcome.Stale, 0);
        return response;
    }

    private static KeyValuePair<string, string[]>[] Copy(HttpHeaders headers, bool skipContentLength)
    {
        var copied = new List<KeyValuePair<string, string[]>>();
        foreach (var header in headers.NonValidated)
        {
            if (SkippedHeaders.Contains(header.Key)
                || (skipContentLength && string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var values = new string[header.Value.Count];
            var i = 0;
            foreach (var value in header.Value)
            {
                values[i++] = value;
            }

            copied.Add(new(header.Key, values));
        }

        return [.. copied];
    }

    private static void CopyContentHeaders(HttpContent from, HttpContent to)
    {
        foreach (var header in from.Headers.NonValidated)
        {
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                to.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
    }
}
