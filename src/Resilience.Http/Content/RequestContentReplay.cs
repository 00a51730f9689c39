using System.Buffers;

namespace Resilience.Http;

/// <summary>How a request's body can be sent again.</summary>
internal enum ContentReplayKind
{
    /// <summary>The request has no body.</summary>
    None,

    /// <summary>The body is already in memory (<see cref="ByteArrayContent"/> and its subclasses, <see cref="ReadOnlyMemoryContent"/>) and is resent as is.</summary>
    InMemory,

    /// <summary>The body was read into a buffer of at most the limit; each attempt sends a fresh content over that buffer.</summary>
    Buffered,

    /// <summary>The declared length exceeds the limit: the body is sent once, untouched, and the request is not retried.</summary>
    TooLarge,

    /// <summary>A body of unknown length turned out larger than the limit: it is sent once (the read part, then the rest) and not retried.</summary>
    UnknownLengthTooLarge,
}

/// <summary>
/// Prepares a request so its body can be sent once per attempt, within <see cref="HttpResilienceOptions.MaxBufferedContentBytes"/>.
/// </summary>
/// <remarks>
/// <para>
/// Inside a <see cref="DelegatingHandler"/> the same <see cref="HttpRequestMessage"/> may go through <c>base.SendAsync</c>
/// more than once (only <see cref="HttpClient"/> refuses a message it already sent), and the socket handler does not
/// dispose request content; but a <see cref="StreamContent"/> over a non-seekable stream can be read only once. So the
/// body is read up front into a buffer, and each attempt gets a new <see cref="ByteArrayContent"/> over that buffer with
/// the caller's content headers.
/// </para>
/// <para>
/// Call <see cref="Restore"/> when the request is done: it puts the caller's own content back on the request, so that
/// disposing the request disposes the caller's stream as it would without the handler.
/// </para>
/// </remarks>
internal readonly struct RequestContentReplay
{
    private const int CopyChunkBytes = 16 * 1024;

    private readonly HttpContent? _original;
    private readonly byte[]? _buffer;
    private readonly int _length;

    private RequestContentReplay(ContentReplayKind kind, HttpContent? original, byte[]? buffer, int length)
    {
        Kind = kind;
        _original = original;
        _buffer = buffer;
        _length = length;
    }

    public ContentReplayKind Kind { get; }

    /// <summary>Gets a value indicating whether the body can be sent again, so the request may be retried.</summary>
    public bool CanResend => Kind is ContentReplayKind.None or ContentReplayKind.InMemory or ContentReplayKind.Buffered;

    /// <summary>Gets the buffered body (only for <see cref="ContentReplayKind.Buffered"/>).</summary>
    public ReadOnlyMemory<byte> BufferedBody => _buffer is null ? default : _buffer.AsMemory(0, _length);

    /// <summary>
    /// Reads the body of <paramref name="request"/> when it must be buffered to be resent; completes synchronously,
    /// without reading, when there is no body, the body is in memory or its declared length exceeds the limit.
    /// </summary>
    public static ValueTask<RequestContentReplay> PrepareAsync(HttpRequestMessage request, int maxBufferedBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBufferedBytes);
        var content = request.Content;
        if (content is null)
        {
            return new(new RequestContentReplay(ContentReplayKind.None, null, null, 0));
        }

        if (content is ByteArrayContent or ReadOnlyMemoryContent)
        {
            return new(new RequestContentReplay(ContentReplayKind.InMemory, content, null, 0));
        }

        if (content.Headers.ContentLength is { } declared && declared > maxBufferedBytes)
        {
            return new(new RequestContentReplay(ContentReplayKind.TooLarge, content, null, 0));
        }

        return BufferAsync(request, content, maxBufferedBytes, cancellationToken);
    }

    /// <summary>Puts the body to send on <paramref name="request"/> for the next attempt.</summary>
    /// <remarks>For <see cref="ContentReplayKind.Buffered"/> each call installs a new content over the same buffer (no copy).</remarks>
    public void PrepareAttempt(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Kind == ContentReplayKind.Buffered)
        {
            var fresh = new ByteArrayContent(_buffer!, 0, _length);
            CopyHeaders(_original!, fresh);
            request.Content = fresh;
        }
    }

    /// <summary>Puts the caller's own content back on <paramref name="request"/> (its owner disposes it with the request).</summary>
    public void Restore(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Kind is ContentReplayKind.Buffered or ContentReplayKind.UnknownLengthTooLarge)
        {
            // The replaced contents hold no resources of their own (a managed buffer, or the caller's stream that the
            // original content owns), so they are dropped, not disposed: a protocol that still writes the body after
            // the response arrived (HTTP/2) must not find it disposed.
            request.Content = _original;
        }
    }

    private static async ValueTask<RequestContentReplay> BufferAsync(HttpRequestMessage request, HttpContent content, int maxBufferedBytes, CancellationToken cancellationToken)
    {
        var source = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var declared = content.Headers.ContentLength;
        using var buffer = new MemoryStream(declared is { } length ? (int)length : Math.Min(maxBufferedBytes, CopyChunkBytes));
        var chunk = ArrayPool<byte>.Shared.Rent(CopyChunkBytes);
        try
        {
            int read;
            while ((read = await source.ReadAsync(chunk.AsMemory(0, CopyChunkBytes), cancellationToken).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > maxBufferedBytes)
                {
                    // Over the limit: send what was read, then the rest of the stream, once.
                    var prefix = buffer.ToArray();
                    var once = new PrefixedStreamContent(prefix, source);
                    CopyHeaders(content, once);
                    request.Content = once;
                    return new RequestContentReplay(ContentReplayKind.UnknownLengthTooLarge, content, null, 0);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return new RequestContentReplay(ContentReplayKind.Buffered, content, buffer.GetBuffer(), (int)buffer.Length);
    }

    private static void CopyHeaders(HttpContent from, HttpContent to)
    {
        foreach (var header in from.Headers.NonValidated)
        {
            // The new content computes its own length; a stale declared length would corrupt the framing.
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                to.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
    }
}
