namespace Resilience.CircuitBreaking;

/// <summary>
/// Success and failure counts over a sliding time window, kept in a fixed ring of buckets.
/// Recording is lock-free (<see cref="Interlocked"/> increments); a bucket is recycled under a lock once per bucket
/// period, zeroing it before publishing its new period so no increment of the new period is lost.
/// </summary>
internal sealed class HealthRing
{
    private readonly Bucket[] _buckets;
    private readonly long _bucketTicks;
    private readonly Lock _rotateLock = new();

    public HealthRing(int bucketCount, long bucketTimestampTicks)
    {
        _buckets = new Bucket[bucketCount];
        _bucketTicks = Math.Max(1, bucketTimestampTicks);
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i].Period = long.MinValue;
        }
    }

    public void Record(long timestamp, bool failure)
    {
        var period = timestamp / _bucketTicks;
        ref var bucket = ref _buckets[(int)(period % _buckets.Length)];
        if (Volatile.Read(ref bucket.Period) < period)
        {
            Rotate(ref bucket, period);
        }

        // A bucket already claimed by a later period gets this late count: attributed to a neighbour, never lost.
        if (failure)
        {
            Interlocked.Increment(ref bucket.Failures);
        }
        else
        {
            Interlocked.Increment(ref bucket.Successes);
        }
    }

    /// <summary>Sums the buckets of the window ending at <paramref name="timestamp"/>.</summary>
    public (int Failures, int Calls) Sum(long timestamp)
    {
        var period = timestamp / _bucketTicks;
        long failures = 0, calls = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            ref var bucket = ref _buckets[i];
            var p = Volatile.Read(ref bucket.Period);
            if (p > period - _buckets.Length && p <= period)
            {
                var f = Volatile.Read(ref bucket.Failures);
                failures += f;
                calls += f + Volatile.Read(ref bucket.Successes);
            }
        }

        return ((int)Math.Min(failures, int.MaxValue), (int)Math.Min(calls, int.MaxValue));
    }

    public void Clear()
    {
        lock (_rotateLock)
        {
            for (var i = 0; i < _buckets.Length; i++)
            {
                ref var bucket = ref _buckets[i];
                Volatile.Write(ref bucket.Period, long.MinValue);
                Volatile.Write(ref bucket.Failures, 0);
                Volatile.Write(ref bucket.Successes, 0);
            }
        }
    }

    private void Rotate(ref Bucket bucket, long period)
    {
        lock (_rotateLock)
        {
            if (bucket.Period >= period)
            {
                return;
            }

            Volatile.Write(ref bucket.Failures, 0);
            Volatile.Write(ref bucket.Successes, 0);
            Volatile.Write(ref bucket.Period, period);
        }
    }

    private struct Bucket
    {
        public long Period;
        public int Successes;
        public int Failures;
    }
}
