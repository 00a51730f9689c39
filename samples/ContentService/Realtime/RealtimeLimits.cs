using System.Threading.RateLimiting;
using ContentService.Security;
using Microsoft.Extensions.Options;

namespace ContentService.Realtime;

/// <summary>
/// The instance-wide limits of the WebSocket endpoint: connections (in all and per client), requests in flight over
/// all connections, and message rates per API key and per address (fixed windows that report the time left).
/// </summary>
internal sealed class RealtimeLimits : IDisposable
{
    private readonly RealtimeOptions _options;
    private readonly Dictionary<string, int> _perClient = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly PartitionedRateLimiter<string> _perKey;
    private readonly PartitionedRateLimiter<string> _perAddress;
    private int _connections;
    private int _inFlight;

    public RealtimeLimits(IOptions<RealtimeOptions> options, TimeProvider time)
    {
        var o = _options = options.Value;
        _perKey = PartitionedRateLimiter.Create<string, string>(key =>
            RateLimitPartition.Get(key, _ => new FixedWindowLimiter(o.MessagesPerWindowPerKey, o.Window, time)));
        _perAddress = PartitionedRateLimiter.Create<string, string>(address =>
            RateLimitPartition.Get(address, _ => new FixedWindowLimiter(o.MessagesPerWindowPerAddress, o.Window, time)));
    }

    public int Connections
    {
        get
        {
            lock (_gate)
            {
                return _connections;
            }
        }
    }

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Takes a connection slot for <paramref name="client"/>, or returns null when the client or the instance is at its limit.</summary>
    public IDisposable? TryConnect(string client)
    {
        lock (_gate)
        {
            var mine = _perClient.GetValueOrDefault(client);
            if (mine >= _options.MaxConnectionsPerClient || _connections >= _options.MaxConnections)
            {
                return null;
            }

            _perClient[client] = mine + 1;
            _connections++;
        }

        return new Slot(this, client);
    }

    /// <summary>Takes one of the instance's in-flight slots; false when all are taken.</summary>
    public bool TryStartRequest()
    {
        while (true)
        {
            var current = Volatile.Read(ref _inFlight);
            if (current >= _options.MaxInFlight)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _inFlight, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    public void EndRequest() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Counts one message against its key (if any) and its address; says which limit refused it and for how long.</summary>
    public (string? Refused, TimeSpan RetryAfter) TryCountMessage(string? keyId, string address)
    {
        if (keyId is not null && Refused(_perKey.AttemptAcquire(keyId)) is { } keyWait)
        {
            return ("key", keyWait);
        }

        return Refused(_perAddress.AttemptAcquire(address)) is { } addressWait ? ("address", addressWait) : (null, TimeSpan.Zero);
    }

    public void Dispose()
    {
        _perKey.Dispose();
        _perAddress.Dispose();
    }

    private static TimeSpan? Refused(RateLimitLease lease)
    {
        using (lease)
        {
            return lease.IsAcquired ? null : lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        }
    }

    private void Disconnect(string client)
    {
        lock (_gate)
        {
            _connections--;
            if (--_perClient[client] == 0)
            {
                _perClient.Remove(client);
            }
        }
    }

    private sealed class Slot(RealtimeLimits limits, string client) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                limits.Disconnect(client);
            }
        }
    }
}
