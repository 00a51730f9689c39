using System.Numerics;
using Resilience.CircuitBreaking;

namespace Resilience.Core.Tests.CircuitBreaking;

/// <summary>The failure window on its own: which bucket a call lands in, what a sum sees, what clearing forgets.</summary>
public sealed class HealthRingMutationTests
{
    // Ten buckets of 100 ticks: period p spans [100p, 100p + 100) and lives in bucket p % 10.
    private const long BucketTicks = 100;

    private static HealthRing Ring(int buckets = 10) => new(buckets, BucketTicks);

    [Fact]
    public void Sum_CallsInsideTheWindow_CountsFailuresAndCalls()
    {
        var ring = Ring();
        ring.Record(500, failure: true);
        ring.Record(510, failure: false);
        ring.Record(620, failure: true);

        Assert.Equal((2, 3), ring.Sum(650));
    }

    [Fact]
    public void Sum_BucketOlderThanTheWindow_IsNotCounted()
    {
        var ring = Ring();
        ring.Record(500, failure: true);
        ring.Record(600, failure: false);

        // At period 15 the window is periods 6..15: period 5 has slid out, period 6 has not.
        Assert.Equal((0, 1), ring.Sum(1550));
    }

    [Fact]
    public void Record_LateCallOfAnEarlierPeriod_LandsInItsOwnBucket()
    {
        var ring = Ring();
        ring.Record(550, failure: true);

        // A call that started before the newest period reports late; it must not be counted in the newest bucket.
        ring.Record(350, failure: false);

        Assert.Equal((0, 1), ring.Sum(450));
        Assert.Equal((1, 2), ring.Sum(550));
    }

    [Fact]
    public void Record_AtTheFirstTickOfTheNextPeriod_LandsInTheNextBucket()
    {
        var ring = Ring();
        ring.Record(500, failure: true);
        ring.Record(600, failure: false);
        ring.Record(699, failure: false);

        // Period 5 has left the window at period 15; both calls of period 6 are still in it.
        Assert.Equal((0, 2), ring.Sum(1500));
    }

    [Fact]
    public void Clear_AfterCalls_SumIsEmpty()
    {
        var ring = Ring();
        ring.Record(500, failure: true);
        ring.Record(610, failure: false);

        ring.Clear();

        Assert.Equal((0, 0), ring.Sum(610));
    }

    [Fact]
    public void Record_AfterClearInTheSamePeriod_IsCountedAgain()
    {
        var ring = Ring();
        ring.Record(500, failure: true);
        ring.Clear();

        // The period is the one the ring was last recording in; the cleared bucket must be claimed again.
        ring.Record(510, failure: true);
        ring.Record(520, failure: false);

        Assert.Equal((1, 2), ring.Sum(530));
    }

    [Fact]
    public void Sum_ManyBuckets_EachBucketCountedOnce()
    {
        // A hundred buckets: the counters of one stripe span more than a few cache lines.
        var ring = Ring(buckets: 100);
        for (long period = 0; period < 100; period++)
        {
            ring.Record(period * BucketTicks, failure: period % 2 == 0);
        }

        Assert.Equal((50, 100), ring.Sum(99 * BucketTicks));
    }

    [Fact]
    public void Sum_CallsRecordedOnEveryProcessor_CountsThemAll()
    {
        // Counters are striped per processor: calls from threads on different cores must all reach the sum. The workers
        // go on (for at most two seconds) until one has recorded on the last stripe, the one a sum could miss.
        var ring = Ring(buckets: 4);
        var lastStripe = (int)Math.Min(64, BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount)) - 1;
        var workers = Math.Max(2, Environment.ProcessorCount * 2);
        var deadline = Environment.TickCount64 + 2000;
        var onLastStripe = 0;
        long recorded = 0;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            long mine = 0;
            while (mine < 20_000 || (Volatile.Read(ref onLastStripe) == 0 && Environment.TickCount64 < deadline))
            {
                if ((Thread.GetCurrentProcessorId() & lastStripe) == lastStripe)
                {
                    Volatile.Write(ref onLastStripe, 1);
                }

                ring.Record(50, failure: (mine & 1) == 0);
                mine++;
            }

            Interlocked.Add(ref recorded, mine);
        });

        var (failures, calls) = ring.Sum(50);
        Assert.Equal(recorded, calls);
        Assert.InRange(failures, (recorded / 2) - workers, (recorded / 2) + workers);
    }

    [Fact]
    public void Record_ConcurrentCallsOpeningNewPeriods_LoseNoCount()
    {
        // Threads that reach a new period together all try to rotate its bucket in; only the first may clear it.
        // One bucket, so every period rotates it.
        var ring = Ring(buckets: 1);
        var workers = Math.Max(2, Environment.ProcessorCount);
        const int Periods = 100;
        const int PerPeriod = 20;
        using var barrier = new Barrier(workers);
        var lost = 0;
        var threads = new Thread[workers];
        for (var w = 0; w < workers; w++)
        {
            var first = w == 0;
            threads[w] = new Thread(() =>
            {
                for (long period = 0; period < Periods; period++)
                {
                    barrier.SignalAndWait();
                    for (var i = 0; i < PerPeriod; i++)
                    {
                        ring.Record(period * BucketTicks, failure: false);
                    }

                    barrier.SignalAndWait();
                    if (first && ring.Sum(period * BucketTicks).Calls != workers * PerPeriod)
                    {
                        Interlocked.Increment(ref lost);
                    }
                }
            });
            threads[w].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        Assert.Equal(0, lost);
    }

    [Fact]
    public void New_CountersGrowWithProcessorsOnly_CappedAndPaddedToOneCacheLine()
    {
        // A breaker per dependency keeps one ring: its size is a stripe per processor (at most 64), each stripe the
        // bucket counters rounded up to a cache line plus one line of padding.
        _ = new HealthRing(10, BucketTicks);
        var stripes = (long)Math.Min(64, BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount));
        const long StripeBytes = (32 + 16) * sizeof(int);
        var budget = (stripes * StripeBytes) + (10 * sizeof(long)) + 1024;

        var before = GC.GetAllocatedBytesForCurrentThread();
        var ring = new HealthRing(10, BucketTicks);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        GC.KeepAlive(ring);
        Assert.InRange(allocated, stripes * StripeBytes, budget);
    }
}
