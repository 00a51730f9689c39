using System.Buffers;
using System.Net;

namespace Resilience.Http;

/// <summary>A request body read into an array rented from <see cref="ArrayPool{T}.Shared"/>, returned once its owner and every send are done with it.</summary>
/// <remarks>
/// The owner (the handler, until the request is complete) holds one reference and each serialization holds one while it
/// writes: a protocol that still writes the body after the response arrived (HTTP/2) never reads an array that went back
/// to the pool.
/// </remarks>
internal sealed class PooledBody
{
    private byte[]? _buffer;
    private int _references = 1;
    private int _ownerReleased;

    public PooledBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    /// <summary>Gets the bytes; valid while a reference is held.</summary>
    public ReadOnlyMemory<byte> Memory => _buffer is { } buffer ? buffer.AsMemory(0, Length) : ReadOnlyMemory<byte>.Empty;

    /// <summary>Takes a reference for one serialization; fails once the array went back to the pool.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>Drops the owner's reference (at most once).</summary>
    public void ReleaseOwner()
    {
        if (Interlocked.Exchange(ref _ownerReleased, 1) == 0)
        {
            Release();
        }
    }

    /// <summary>Drops a reference; the last one returns the array to the pool.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0 && Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the bytes to <paramref name="stream"/> under a reference of its own.</summary>
    public async Task WriteToAsync(Stream stream, CancellationToken cancellationToken)
    {
        if (!TryAcquire())
        {
            throw new ObjectDisposedException(nameof(PooledBody), "The request is complete; its buffered body was released.");
        }

        try
        {
            await stream.WriteAsync(Memory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Release();
        }
    }
}

/// <summary>One attempt's body over a <see cref="PooledBody"/>: a fresh content per attempt, no copy.</summary>
internal sealed class PooledBodyContent(PooledBody body) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        body.WriteToAsync(stream, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        body.WriteToAsync(stream, cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = body.Length;
        return true;
    }
}
