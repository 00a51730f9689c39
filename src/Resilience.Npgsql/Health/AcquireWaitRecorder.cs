namespace Resilience.Npgsql;

/// <summary>
/// Keeps the last <see cref="Capacity"/> connection-acquire waits and the start of each acquire still waiting, lock-free, for
/// a p99 on demand.
/// </summary>
internal sealed class AcquireWaitRecorder(TimeProvider timeProvider)
{
    public const int Capacity = 256;

    /// <summary>How many acquires in progress are tracked; more waiting at once are not, their elders already tell the age.</summary>
    public const int PendingSlots = 64;

    /// <summary>How long a finished wait counts in the p99 a probe reports: recent enough to be the pool's state, not its history.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    private const long Free = 0;

    private readonly long[] _ticks = new long[Capacity];
    private readonly long[] _endedAt = new long[Capacity];
    private readonly long[] _pendingSince = new long[PendingSlots];
    private long _count;

    public void Record(TimeSpan wait)
    {
        var index = Interlocked.Increment(ref _count) - 1;
        Volatile.Write(ref _endedAt[index % Capacity], timeProvider.GetTimestamp());
        Volatile.Write(ref _ticks[index % Capacity], wait.Ticks);
    }

    /// <summary>Notes that an acquire started at <paramref name="startedAt"/> (a timestamp of the recorder's clock) is waiting.</summary>
    /// <returns>The slot to pass to <see cref="EndWait"/>; -1 when every slot is taken.</returns>
    public int BeginWait(long startedAt)
    {
        var stamp = startedAt == Free ? 1 : startedAt;
        var first = Environment.CurrentManagedThreadId;
        for (var i = 0; i < PendingSlots; i++)
        {
            var slot = (first + i) & (PendingSlots - 1);
            if (Volatile.Read(ref _pendingSince[slot]) == Free && Interlocked.CompareExchange(ref _pendingSince[slot], stamp, Free) == Free)
            {
                return slot;
            }
        }

        return -1;
    }

    /// <summary>Notes that the acquire of <paramref name="slot"/> ended (acquired or failed).</summary>
    public void EndWait(int slot)
    {
        if (slot >= 0)
        {
            Volatile.Write(ref _pendingSince[slot], Free);
        }
    }

    /// <summary>Returns the 99th percentile of the recorded waits (the last <see cref="Capacity"/>), or <see langword="null"/> when none was recorded.</summary>
    public TimeSpan? GetP99() => P99Of(TimeSpan.MaxValue, includePending: false);

    /// <summary>
    /// Returns the 99th percentile of the waits that ended within <see cref="Window"/> (at most the last <see cref="Capacity"/>),
    /// each caller still waiting counted by how long it has waited so far; <see langword="null"/> when there was none.
    /// </summary>
    /// <remarks>A caller stuck for most of the pool's <c>Timeout</c> shows while it waits, not only once it gave up; a slow
    /// wait long past no longer shows. Any number of readers may ask: reading changes nothing.</remarks>
    public TimeSpan? GetRecentP99() => P99Of(Window, includePending: true);

    private TimeSpan? P99Of(TimeSpan window, bool includePending)
    {
        var count = Volatile.Read(ref _count);
        var now = timeProvider.GetTimestamp();
        Span<long> copy = stackalloc long[Capacity + PendingSlots];
        var n = 0;
        for (var i = Math.Max(0, count - Capacity); i < count; i++)
        {
            var slot = (int)(i % Capacity);
            if (window == TimeSpan.MaxValue || timeProvider.GetElapsedTime(Volatile.Read(ref _endedAt[slot]), now) <= window)
            {
                copy[n++] = Volatile.Read(ref _ticks[slot]);
            }
        }

        if (includePending)
        {
            for (var slot = 0; slot < PendingSlots; slot++)
            {
                var since = Volatile.Read(ref _pendingSince[slot]);
                if (since != Free)
                {
                    copy[n++] = timeProvider.GetElapsedTime(since, now).Ticks;
                }
            }
        }

        if (n == 0)
        {
            return null;
        }

        copy = copy[..n];
        copy.Sort();
        var rank = (int)Math.Ceiling(n * 0.99) - 1;
        return TimeSpan.FromTicks(copy[rank]);
    }
}
