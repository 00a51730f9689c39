using System.Net;

namespace Resilience.Http;

/// <summary>Content made of bytes already read from a stream, followed by the rest of that stream; it can be sent once.</summary>
/// <remarks>
/// Disposes <c>owner</c> (the content <c>rest</c> came from) when given: a response body must release its connection.
/// A request body passes none, because the caller's original content is put back on the request and disposed with it;
/// its prefix is pooled memory (<c>pooledPrefix</c>), held while it is written.
/// </remarks>
internal sealed class PrefixedStreamContent(ReadOnlyMemory<byte> prefix, Stream rest, IDisposable? owner = null, PooledBody? pooledPrefix = null) : HttpContent
{
    private int _sent;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _sent, 1) != 0)
        {
            throw new InvalidOperationException("This request body was larger than the buffering limit and cannot be sent twice.");
        }

        if (pooledPrefix is not null)
        {
            await pooledPrefix.WriteToAsync(stream, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await stream.WriteAsync(prefix, cancellationToken).ConfigureAwait(false);
        }

        await rest.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            owner?.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
