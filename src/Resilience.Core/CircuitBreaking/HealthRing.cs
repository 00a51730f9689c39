namespace Resilience.CircuitBreaking;

/// <summary>
/// The failure-ratio window: a fixed ring of time buckets counting successes and failures. Counters are striped per
/// processor (each stripe on its own cache lines), so callers on different cores never contend on the success path;
/// summing the stripes happens only when a failure asks whether to open.
/// </summary>
internal sealed class HealthRing
{
    // 16 ints = 64 bytes: the padding that keeps two stripes off one cache line.
    private const int CacheLineInts = 16;

    private readonly long[] _periods;
    private readonly int[] _counts;
    private readonly int _bucketCount;
    private readonly int _stride;
    private readonly int _stripeMask;
    private readonly long _bucketTicks;
    private readonly Lock _rotateLock = new();

    // The bucket of the current period, so recording a call costs no division (a 64-bit division costs more than the
    // rest of the success path); replaced, as one immutable object, when a call falls outside it.
    private Current _current = new(long.MinValue, long.MinValue, 0, 0);

    public HealthRing(int bucketCount, long bucketTicks)
    {
        _bucketCount = bucketCount;
        _bucketTicks = Math.Max(1, bucketTicks);
        _periods = new long[bucketCount];
        // Stryker disable once Statement : with periods starting at 0 an empty bucket still sums to zero (timestamps are never negative)
        Array.Fill(_periods, long.MinValue);
        var stripes = (int)Math.Min(64, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount));
        _stripeMask = stripes - 1;
        // Stryker disable once Arithmetic : the padding only keeps stripes apart; any stride of at least 2 × buckets counts the same
        _stride = ((bucketCount * 2 + CacheLineInts - 1) / CacheLineInts * CacheLineInts) + CacheLineInts;
        _counts = new int[stripes * _stride];
    }

    public void Record(long timestamp, bool failure)
    {
        var current = Volatile.Read(ref _current);
        int bucket;
        // Stryker disable once Equality : only how fast a call finds its bucket changes (the cache is checked before use), not which bucket it finds
        if (timestamp >= current.Start && timestamp < current.End && Volatile.Read(ref _periods[current.Bucket]) == current.Period)
        {
            bucket = current.Bucket;
        }
        else
        {
            bucket = Locate(timestamp);
        }

        // A bucket already claimed by a later period gets this late count: attributed to a neighbour, never lost.
        // Stryker disable once Bitwise,Arithmetic : which stripe takes a count changes contention, not the sums
        var stripe = Thread.GetCurrentProcessorId() & _stripeMask;
        // Stryker disable once Arithmetic : which stripe takes a count changes contention, not the sums
        Interlocked.Increment(ref _counts[(stripe * _stride) + (bucket * 2) + (failure ? 1 : 0)]);
    }

    /// <summary>Finds (and if needed rotates in) the bucket of <paramref name="timestamp"/>, and remembers it as the current one.</summary>
    private int Locate(long timestamp)
    {
        var period = timestamp / _bucketTicks;
        var bucket = (int)(period % _bucketCount);
        // Stryker disable once Equality : Rotate checks again under its lock; this test only spares the lock
        if (Volatile.Read(ref _periods[bucket]) < period)
        {
            Rotate(bucket, period);
        }

        // Stryker disable once all : only how fast a call finds its bucket changes (the cache is checked before use), not which bucket it finds
        if (Volatile.Read(ref _periods[bucket]) == period && period > Volatile.Read(ref _current).Period)
        {
            // Stryker disable once all : only how fast a call finds its bucket changes (the cache is checked before use), not which bucket it finds
            Volatile.Write(ref _current, new Current(period * _bucketTicks, (period + 1) * _bucketTicks, bucket, period));
        }

        return bucket;
    }

    public (int Failures, int Calls) Sum(long timestamp)
    {
        var period = timestamp / _bucketTicks;
        long failures = 0, calls = 0;
        for (var bucket = 0; bucket < _bucketCount; bucket++)
        {
            var p = Volatile.Read(ref _periods[bucket]);
            if (p <= period - _bucketCount || p > period)
            {
                continue;
            }

            for (var stripe = 0; stripe <= _stripeMask; stripe++)
            {
                var at = (stripe * _stride) + (bucket * 2);
                var f = Volatile.Read(ref _counts[at + 1]);
                failures += f;
                calls += f + Volatile.Read(ref _counts[at]);
            }
        }

        return ((int)Math.Min(failures, int.MaxValue), (int)Math.Min(calls, int.MaxValue));
    }

    public void Clear()
    {
        // Forgetting each bucket's period is enough: Sum skips it, and the next call to land in it rotates it, which zeroes it.
        lock (_rotateLock)
        {
            for (var bucket = 0; bucket < _bucketCount; bucket++)
            {
                Volatile.Write(ref _periods[bucket], long.MinValue);
            }
        }
    }

    private void Rotate(int bucket, long period)
    {
        lock (_rotateLock)
        {
            if (_periods[bucket] >= period)
            {
                return;
            }

            ZeroLocked(bucket);
            Volatile.Write(ref _periods[bucket], period);
        }
    }

    private void ZeroLocked(int bucket)
    {
        for (var stripe = 0; stripe <= _stripeMask; stripe++)
        {
            var at = (stripe * _stride) + (bucket * 2);
            Volatile.Write(ref _counts[at], 0);
            Volatile.Write(ref _counts[at + 1], 0);
        }
    }

    private sealed class Current(long start, long end, int bucket, long period)
    {
        public long Start { get; } = start;

        public long End { get; } = end;

        public int Bucket { get; } = bucket;

        public long Period { get; } = period;
    }
}
