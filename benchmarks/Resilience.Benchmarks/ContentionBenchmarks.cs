using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Resilience.Benchmarks.Comparison;
using Resilience.CircuitBreaking;

namespace Resilience.Benchmarks;

/// <summary>
/// Throughput under contention: one breaker shared by every core against one breaker per core, each thread running
/// closed-circuit successes through <see cref="CircuitBreaker.TryAcquire"/>. One invocation runs <see cref="TotalOps"/>
/// operations split across <see cref="Environment.ProcessorCount"/> dedicated threads, so Mean is the wall time per
/// operation and Op/s the aggregate throughput. Shared should reach at least 0.8× the per-core throughput.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class ContentionBenchmarks
{
    public const int TotalOps = 1 << 21;

    private WorkerGroup _workers = null!;
    private CircuitBreaker[] _sharedConsecutive = null!;
    private CircuitBreaker[] _perCoreConsecutive = null!;
    private CircuitBreaker[] _sharedRatio = null!;
    private CircuitBreaker[] _perCoreRatio = null!;

    [GlobalSetup]
    public void Setup()
    {
        var threads = Environment.ProcessorCount;
        _workers = new WorkerGroup(threads);
        _sharedConsecutive = Shared(threads, OurSetups.ConsecutiveBreaker());
        _perCoreConsecutive = PerCore(threads, static () => OurSetups.ConsecutiveBreaker());
        _sharedRatio = Shared(threads, OurSetups.RatioBreaker(slowCalls: true));
        _perCoreRatio = PerCore(threads, static () => OurSetups.RatioBreaker(slowCalls: true));
    }

    [GlobalCleanup]
    public void Cleanup() => _workers.Dispose();

    [Benchmark(OperationsPerInvoke = TotalOps)]
    public void Consecutive_Shared() => _workers.Run(_sharedConsecutive, TotalOps);

    [Benchmark(OperationsPerInvoke = TotalOps)]
    public void Consecutive_PerCore() => _workers.Run(_perCoreConsecutive, TotalOps);

    [Benchmark(OperationsPerInvoke = TotalOps)]
    public void RatioSlowCall_Shared() => _workers.Run(_sharedRatio, TotalOps);

    [Benchmark(OperationsPerInvoke = TotalOps)]
    public void RatioSlowCall_PerCore() => _workers.Run(_perCoreRatio, TotalOps);

    private static CircuitBreaker[] Shared(int threads, CircuitBreaker breaker)
    {
        var breakers = new CircuitBreaker[threads];
        Array.Fill(breakers, breaker);
        return breakers;
    }

    private static CircuitBreaker[] PerCore(int threads, Func<CircuitBreaker> create)
    {
        var breakers = new CircuitBreaker[threads];
        var padding = new List<byte[]>();
        for (var i = 0; i < threads; i++)
        {
            breakers[i] = create();

            // Keeps consecutive allocations off each other's cache lines, so "per core" is not slowed by false sharing.
            padding.Add(new byte[256]);
        }

        GC.KeepAlive(padding);
        return breakers;
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(StatisticColumn.OperationsPerSecond);
    }

    /// <summary>Dedicated threads started once, released together for each invocation, so thread start-up is not measured.</summary>
    private sealed class WorkerGroup : IDisposable
    {
        private readonly Thread[] _threads;
        private readonly SemaphoreSlim[] _go;
        private readonly CountdownEvent _done;
        private CircuitBreaker[] _breakers = [];
        private int _opsPerThread;
        private volatile bool _stopping;
        private int _sink;

        public WorkerGroup(int count)
        {
            _threads = new Thread[count];
            _go = new SemaphoreSlim[count];
            _done = new CountdownEvent(count);
            for (var i = 0; i < count; i++)
            {
                _go[i] = new SemaphoreSlim(0);
                var index = i;
                _threads[i] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"bench-worker-{i}" };
                _threads[i].Start();
            }
        }

        public void Run(CircuitBreaker[] breakers, int totalOps)
        {
            _breakers = breakers;
            _opsPerThread = totalOps / _threads.Length;
            _done.Reset();
            foreach (var go in _go)
            {
                go.Release();
            }

            _done.Wait();
        }

        public void Dispose()
        {
            _stopping = true;
            foreach (var go in _go)
            {
                go.Release();
            }

            foreach (var thread in _threads)
            {
                thread.Join();
            }
        }

        private void Loop(int index)
        {
            while (true)
            {
                _go[index].Wait();
                if (_stopping)
                {
                    return;
                }

                var breaker = _breakers[index];
                var sum = 0;
                for (var i = _opsPerThread; i > 0; i--)
                {
                    if (breaker.TryAcquire(out var permit))
                    {
                        sum += Work.Compute(i);
                        permit.Succeeded();
                    }
                }

                Volatile.Write(ref _sink, sum);
                _done.Signal();
            }
        }
    }
}
