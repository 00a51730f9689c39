using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;

namespace Resilience.Core.Tests.CircuitBreaking;

public sealed class CircuitBreakerConcurrencyTests
{
    private const int Callers = 64;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void HalfOpen_64ParallelCallers_ExactlyPermittedProbesGetThrough(int permittedProbes)
    {
        var time = new FakeTimeProvider();
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("c", new CircuitBreakerOptions { FailureThreshold = 1, PermittedProbes = permittedProbes }, time);
        var admitted = 0;
        var round = 0;
        var permits = new CircuitPermit[Callers];
        var acquired = new bool[Callers];

        // Between rounds (in the post-phase action, when no caller runs), check the round and re-open the circuit.
        using var barrier = new Barrier(Callers, _ =>
        {
            if (round > 0)
            {
                Assert.Equal(permittedProbes, Volatile.Read(ref admitted));
                var probes = 0;
                for (var i = 0; i < Callers; i++)
                {
                    if (acquired[i])
                    {
                        Assert.True(permits[i].IsProbe);
                        probes++;
                        permits[i].Failed();
                    }
                }

                Assert.Equal(permittedProbes, probes);
                Assert.Equal(CircuitState.Open, breaker.State);
            }
            else
            {
                Assert.True(breaker.TryAcquire(out var first));
                first.Failed();
            }

            admitted = 0;
            Array.Clear(acquired);
            time.Advance(TimeSpan.FromMinutes(1));
            round++;
        });

        const int Rounds = 1000;
        var threads = new Thread[Callers];
        for (var t = 0; t < Callers; t++)
        {
            var index = t;
            threads[t] = new Thread(() =>
            {
                barrier.SignalAndWait();
                for (var r = 0; r < Rounds; r++)
                {
                    if (breaker.TryAcquire(out var permit))
                    {
                        permits[index] = permit;
                        acquired[index] = true;
                        Interlocked.Increment(ref admitted);
                    }

                    barrier.SignalAndWait();
                }
            });
            threads[t].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        Assert.Equal(Rounds + 1, round);
        Assert.Equal(Rounds * 2 + 1, breaker.GetSnapshot().Transitions);
    }

    [Fact]
    public void Ratio_ParallelSuccessAndFailureStreams_NoLostUpdates()
    {
        var time = new FakeTimeProvider();
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("r", new CircuitBreakerOptions
        {
            Mode = CircuitBreakerMode.FailureRatio,
            MinimumThroughput = int.MaxValue,
            SamplingDuration = TimeSpan.FromSeconds(10),
        }, time);
        const int PerThread = 20_000;
        const int Threads = 8;

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                Assert.True(breaker.TryAcquire(out var permit));
                if (t % 2 == 0)
                {
                    permit.Succeeded();
                }
                else
                {
                    permit.Failed();
                }
            }
        });

        var snapshot = breaker.GetSnapshot();
        Assert.Equal(Threads / 2 * PerThread, snapshot.Failures);
        Assert.Equal(Threads * PerThread, snapshot.Calls);
    }

    [Fact]
    public void Consecutive_ParallelFailures_NoLostUpdates()
    {
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("c", new CircuitBreakerOptions { FailureThreshold = int.MaxValue }, new FakeTimeProvider());
        const int PerThread = 20_000;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                Assert.True(breaker.TryAcquire(out var permit));
                permit.Failed();
            }
        });

        Assert.Equal(8 * PerThread, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public void Open_ParallelRejections_AllRejectedAndTheSnapshotNeverOverCounts()
    {
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("c", new CircuitBreakerOptions { FailureThreshold = 1 }, new FakeTimeProvider());
        Assert.True(breaker.TryAcquire(out var p));
        p.Failed();
        long refused = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                if (!breaker.TryAcquire(out _))
                {
                    Interlocked.Increment(ref refused);
                }
            }
        });

        // The open circuit counts without a lock prefix: concurrent counts may be lost, never invented.
        Assert.Equal(80_000, refused);
        Assert.InRange(breaker.GetSnapshot().Rejections, 1, 80_000);
    }

    [Fact]
    public void Open_SequentialRejections_CountedExactly()
    {
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("c", new CircuitBreakerOptions { FailureThreshold = 1 }, new FakeTimeProvider());
        Assert.True(breaker.TryAcquire(out var p));
        p.Failed();
        for (var i = 0; i < 1_000; i++)
        {
            Assert.False(breaker.TryAcquire(out _));
        }

        Assert.Equal(1_000, breaker.GetSnapshot().Rejections);
    }
}
