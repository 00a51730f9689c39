using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace Resilience.Benchmarks;

/// <summary>
/// Diagnostics, not a comparison: what one clock read costs on this machine. The ratio-mode breaker with slow-call
/// detection reads the clock up to three times per call, so this explains most of its closed-path overhead.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("diagnostics")]
public class ClockBenchmarks
{
    private readonly TimeProvider _time = TimeProvider.System;
    private int _counter;

    [Benchmark(Baseline = true)]
    public long TimeProvider_GetTimestamp() => _time.GetTimestamp();

    [Benchmark]
    public long Stopwatch_GetTimestamp() => Stopwatch.GetTimestamp();

    [Benchmark]
    public long Environment_TickCount64() => Environment.TickCount64;

    [Benchmark]
    public int Interlocked_Increment_Uncontended() => Interlocked.Increment(ref _counter);
}
