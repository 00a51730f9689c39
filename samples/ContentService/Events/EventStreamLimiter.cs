using Microsoft.Extensions.Options;

namespace ContentService.Events;

/// <summary>Counts open event streams per client and in total; a stream holds its slot until its lease is disposed.</summary>
internal sealed class EventStreamLimiter(IOptions<EventsOptions> options)
{
    private readonly Dictionary<string, int> _perClient = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _total;

    public int Open
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Takes a slot for <paramref name="client"/>, or returns null when the client or the instance is at its limit.</summary>
    public IDisposable? TryAcquire(string client)
    {
        var o = options.Value;
        lock (_gate)
        {
            var mine = _perClient.GetValueOrDefault(client);
            if (mine >= o.MaxConnectionsPerClient || _total >= o.MaxConnections)
            {
                return null;
            }

            _perClient[client] = mine + 1;
            _total++;
        }

        return new Lease(this, client);
    }

    private void Release(string client)
    {
        lock (_gate)
        {
            _total--;
            if (--_perClient[client] == 0)
            {
                _perClient.Remove(client);
            }
        }
    }

    private sealed class Lease(EventStreamLimiter limiter, string client) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                limiter.Release(client);
            }
        }
    }
}
