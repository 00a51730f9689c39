using System.Buffers;

namespace Resilience.Http;

/// <summary>How a request's body can be sent again.</summary>
internal enum ContentReplayKind
{
    /// <summary>The request has no body.</summary>
    None,

    /// <summary>The body is already in memory (<see cref="ByteArrayContent"/> and its subclasses, <see cref="ReadOnlyMemoryContent"/>) and is resent as is.</summary>
    InMemory,

    /// <summary>The body was read into pooled memory of at most the limit; each attempt sends a fresh content over it.</summary>
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
/// body is read up front into memory rented from the shared array pool, and each attempt gets a new content over those
/// bytes with the caller's content headers. The handler reads it inside the request's total timeout.
/// </para>
/// <para>
/// Call <see cref="Restore"/> when the request is done: it puts the caller's own content back on the request, so that
/// disposing the request disposes the caller's stream as it would without the handler, and returns the memory.
/// </para>
/// </remarks>
internal readonly struct RequestContentReplay
{
    private const int CopyChunkBytes = 16 * 1024;

    private readonly HttpContent? _original;
    private readonly PooledBody? _body;

    private RequestContentReplay(ContentReplayKind kind, HttpContent? original, PooledBody? body)
    {
        Kind = kind;
        _original = original;
        _body = body;
    }

    public ContentReplayKind Kind { get; }

    /// <summary>Gets a value indicating whether the body can be sent again, so the request may be retried.</summary>
    public bool CanResend => Kind is ContentReplayKind.None or ContentReplayKind.InMemory or ContentReplayKind.Buffered;

    /// <summary>Gets the buffered body (only for <see cref="ContentReplayKind.Buffered"/>, until <see cref="Restore"/>).</summary>
    public ReadOnlyMemory<byte> BufferedBody => Kind == ContentReplayKind.Buffered ? _body!.Memory : default;

    /// <summary>Returns whether <see cref="PrepareAsync"/> would read the body of <paramref name="request"/> (a stream of unknown or small enough length).</summary>
    public static bool NeedsBuffering(HttpRequestMessage request, int maxBufferedBytes) =>
        request.Content is { } content
        and not (ByteArrayContent or ReadOnlyMemoryContent)
        && !(content.Headers.ContentLength is { } declared && declared > maxBufferedBytes);

    /// <summary>
    /// Reads the body of <paramref name="request"/> into pooled memory when it must be buffered to be resent; completes
    /// synchronously, without reading, when there is no body, the body is in memory or its declared length exceeds the limit.
    /// </summary>
    /// <remarks>Call <see cref="Restore"/> when the request is done: it returns the memory to the pool.</remarks>
    public static ValueTask<RequestContentReplay> PrepareAsync(HttpRequestMessage request, int maxBufferedBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBufferedBytes);
        return NeedsBuffering(request, maxBufferedBytes)
            ? BufferAsync(request, maxBufferedBytes, cancellationToken)
            : new(Inspect(request, maxBufferedBytes));
    }

    /// <summary>Describes a body that needs no reading: none, in memory, or declared larger than the limit.</summary>
    /// <exception cref="InvalidOperationException">The body must be read (<see cref="NeedsBuffering"/>).</exception>
    public static RequestContentReplay Inspect(HttpRequestMessage request, int maxBufferedBytes) => request.Content switch
    {
        null => new RequestContentReplay(ContentReplayKind.None, null, null),
        ByteArrayContent or ReadOnlyMemoryContent => new RequestContentReplay(ContentReplayKind.InMemory, request.Content, null),
        { Headers.ContentLength: { } declared } content when declared > maxBufferedBytes => new RequestContentReplay(ContentReplayKind.TooLarge, content, null),
        _ => throw new InvalidOperationException("This body must be read to be resent: call BufferAsync."),
    };

    /// <summary>Puts the body to send on <paramref name="request"/> for the next attempt.</summary>
    /// <remarks>For <see cref="ContentReplayKind.Buffered"/> each call installs a new content over the same pooled bytes (no copy).</remarks>
    public void PrepareAttempt(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Kind == ContentReplayKind.Buffered)
        {
            var fresh = new PooledBodyContent(_body!);
            CopyHeaders(_original!, fresh);
            request.Content = fresh;
        }
    }

    /// <summary>Puts the caller's own content back on <paramref name="request"/> (its owner disposes it with the request) and releases the pooled bytes.</summary>
    public void Restore(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Kind is ContentReplayKind.Buffered or ContentReplayKind.UnknownLengthTooLarge)
        {
            // The replaced contents hold no resources of their own (pooled bytes that go back once no send is writing
            // them, or the caller's stream that the original content owns), so they are dropped, not disposed: a protocol
            // that still writes the body after the response arrived (HTTP/2) must not find it disposed.
            request.Content = _original;
            _body!.ReleaseOwner();
        }
    }

    /// <summary>Reads a stream body (see <see cref="NeedsBuffering"/>) into pooled memory, or, when it turns out larger than the limit, prepares it to be sent once.</summary>
    public static async ValueTask<RequestContentReplay> BufferAsync(HttpRequestMessage request, int maxBufferedBytes, CancellationToken cancellationToken)
    {
        var content = request.Content!;
        var declared = content.Headers.ContentLength;

        // One byte more than the limit tells "exactly the limit" from "larger" without a second read.
        var most = (long)maxBufferedBytes + 1;
        var buffer = ArrayPool<byte>.Shared.Rent(ArraySize(declared is { } length ? Math.Min(length + 1, most) : Math.Min(most, CopyChunkBytes)));
        var filled = 0;
        try
        {
            var source = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(filled, Math.Min(buffer.Length - filled, CopyChunkBytes)), cancellationToken).ConfigureAwait(false)) > 0)
            {
                filled += read;
                if (filled > maxBufferedBytes)
                {
                    // Over the limit: send what was read, then the rest of the stream, once.
                    var prefix = new PooledBody(buffer, filled);
                    buffer = null;
                    var once = new PrefixedStreamContent(prefix.Memory, source, pooledPrefix: prefix);
                    CopyHeaders(content, once);
                    request.Content = once;
                    return new RequestContentReplay(ContentReplayKind.UnknownLengthTooLarge, content, prefix);
                }

                if (filled == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(ArraySize(Math.Min((long)buffer.Length * 2, most)));
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }

            var body = new PooledBody(buffer, filled);
            buffer = null;
            return new RequestContentReplay(ContentReplayKind.Buffered, content, body);
        }
        finally
        {
            // Reading failed or was cancelled (the total timeout, the caller): the bytes go back now.
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static int ArraySize(long bytes) => (int)Math.Clamp(bytes, 1, Array.MaxLength);

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
