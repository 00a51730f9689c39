namespace Resilience.Npgsql;

/// <summary>Keeps the last <see cref="Capacity"/> connection-acquire waits, lock-free, for a p99 on demand.</summary>
internal sealed class AcquireWaitRecorder
{
    public const int Capacity = 256;

    private readonly long[] _ticks = new long[Capacity];
    private long _count;

    public void Record(TimeSpan wait)
    {
        var index = Interlocked.Increment(ref _count) - 1;
        Volatile.Write(ref _ticks[index % Capacity], wait.Ticks);
    }

    /// <summary>Returns the 99th percentile of the recorded waits, or <see langword="null"/> when none was recorded.</summary>
    public TimeSpan? GetP99()
    {
        var count = (int)Math.Min(Volatile.Read(ref _count), Capacity);
        if (count == 0)
        {
            return null;
        }

        Span<long> copy = stackalloc long[Capacity];
        copy = copy[..count];
        for (var i = 0; i < count; i++)
        {
            copy[i] = Volatile.Read(ref _ticks[i]);
        }

        copy.Sort();
        var rank = (int)Math.Ceiling(count * 0.99) - 1;
        return TimeSpan.FromTicks(copy[rank]);
    }
}
