namespace Resilience.Health;

/// <summary>A cheap point-in-time view of a connection pool's figures, as reported by an <see cref="IPoolProbe"/>.</summary>
/// <remarks>Figures a probe cannot know are zero (counts) or <see langword="null"/> (<see cref="P99AcquireWait"/>).</remarks>
public readonly struct PoolSnapshot : IEquatable<PoolSnapshot>
{
    /// <summary>Creates a snapshot.</summary>
    /// <param name="maxSize">The pool's maximum size.</param>
    /// <param name="busy">Connections currently handed out.</param>
    /// <param name="idle">Open connections waiting in the pool.</param>
    /// <param name="waiters">Callers currently waiting for a connection.</param>
    /// <param name="acquireTimeouts">Acquire attempts that timed out so far (a monotonically increasing counter).</param>
    /// <param name="p99AcquireWait">The 99th percentile of recent acquire waits, when known.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative.</exception>
    public PoolSnapshot(int maxSize, int busy, int idle, int waiters, long acquireTimeouts, TimeSpan? p99AcquireWait = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        ArgumentOutOfRangeException.ThrowIfNegative(busy);
        ArgumentOutOfRangeException.ThrowIfNegative(idle);
        ArgumentOutOfRangeException.ThrowIfNegative(waiters);
        ArgumentOutOfRangeException.ThrowIfNegative(acquireTimeouts);
        MaxSize = maxSize;
        Busy = busy;
        Idle = idle;
        Waiters = waiters;
        AcquireTimeouts = acquireTimeouts;
        P99AcquireWait = p99AcquireWait;
    }

    /// <summary>Gets the pool's maximum size.</summary>
    public int MaxSize { get; }

    /// <summary>Gets the number of connections currently handed out.</summary>
    public int Busy { get; }

    /// <summary>Gets the number of open connections idle in the pool.</summary>
    public int Idle { get; }

    /// <summary>Gets the number of callers waiting for a connection.</summary>
    public int Waiters { get; }

    /// <summary>Gets the number of acquire attempts that timed out so far.</summary>
    public long AcquireTimeouts { get; }

    /// <summary>Gets the 99th percentile of recent acquire waits, or <see langword="null"/> when unknown.</summary>
    public TimeSpan? P99AcquireWait { get; }

    /// <summary>Gets the share of the pool that is busy, from 0 to 1 (0 when the maximum size is unknown).</summary>
    public double Utilization => MaxSize > 0 ? Math.Min(1d, (double)Busy / MaxSize) : 0d;

    /// <summary>Compares two snapshots for equality.</summary>
    /// <param name="left">The first snapshot.</param>
    /// <param name="right">The second snapshot.</param>
    /// <returns><see langword="true"/> when every figure is equal.</returns>
    public static bool operator ==(PoolSnapshot left, PoolSnapshot right) => left.Equals(right);

    /// <summary>Compares two snapshots for inequality.</summary>
    /// <param name="left">The first snapshot.</param>
    /// <param name="right">The second snapshot.</param>
    /// <returns><see langword="true"/> when any figure differs.</returns>
    public static bool operator !=(PoolSnapshot left, PoolSnapshot right) => !left.Equals(right);

    /// <inheritdoc />
    public bool Equals(PoolSnapshot other) =>
        MaxSize == other.MaxSize && Busy == other.Busy && Idle == other.Idle && Waiters == other.Waiters
        && AcquireTimeouts == other.AcquireTimeouts && P99AcquireWait == other.P99AcquireWait;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PoolSnapshot other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(MaxSize, Busy, Idle, Waiters, AcquireTimeouts, P99AcquireWait);

    /// <inheritdoc />
    public override string ToString() =>
        $"max={MaxSize} busy={Busy} idle={Idle} waiters={Waiters} acquireTimeouts={AcquireTimeouts} p99AcquireWait={P99AcquireWait?.TotalMilliseconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture) ?? "?"}ms";
}
