using Resilience.Health;

namespace Resilience.Core.Tests.Health;

/// <summary>A test double of our own <see cref="IPoolProbe"/>: figures and ping behaviour set by the test.</summary>
internal sealed class ScriptedPoolProbe : IPoolProbe
{
    private int _pings;

    public PoolSnapshot Snapshot { get; set; } = new(maxSize: 10, busy: 0, idle: 2, waiters: 0, acquireTimeouts: 0);

    public Exception? SnapshotError { get; set; }

    /// <summary>What the next pings do; defaults to a quick success.</summary>
    public Func<CancellationToken, ValueTask<TimeSpan>> Ping { get; set; } = static _ => ValueTask.FromResult(TimeSpan.FromMilliseconds(5));

    public int PingCount => Volatile.Read(ref _pings);

    /// <summary>Released once per ping, so tests can await a scheduled check without sleeping.</summary>
    public SemaphoreSlim PingStarted { get; } = new(0);

    public PoolSnapshot GetSnapshot() => SnapshotError is null ? Snapshot : throw SnapshotError;

    public ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _pings);
        PingStarted.Release();
        return Ping(cancellationToken);
    }

    public void PingFails() => Ping = static _ => ValueTask.FromException<TimeSpan>(new InvalidOperationException("connection refused"));

    public void PingTakes(TimeSpan duration) => Ping = _ => ValueTask.FromResult(duration);
}
