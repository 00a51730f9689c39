using Resilience.Telemetry;

namespace Resilience.Core.Tests.Telemetry;

public sealed class StripedCounterTests
{
    [Fact]
    public void Increment_FromMoreThreadsThanOwnedCells_CountsEveryIncrement()
    {
        // More threads than cells: the later ones share the interlocked cell, the first ones write their own.
        const int threads = StripedCounter.OwnedThreads + 16;
        const int perThread = 20_000;
        var counter = new StripedCounter();
        using var start = new Barrier(threads);
        var workers = new Thread[threads];
        for (var i = 0; i < threads; i++)
        {
            workers[i] = new Thread(() =>
            {
                start.SignalAndWait();
                for (var n = 0; n < perThread; n++)
                {
                    counter.Increment();
                }
            });
            workers[i].Start();
        }

        foreach (var worker in workers)
        {
            worker.Join();
        }

        Assert.Equal((long)threads * perThread, counter.Read());
    }

    [Fact]
    public void Read_CountersAreIndependent()
    {
        var first = new StripedCounter();
        var second = new StripedCounter();

        first.Increment();
        first.Increment();
        second.Increment();

        Assert.Equal(2, first.Read());
        Assert.Equal(1, second.Read());
    }
}
