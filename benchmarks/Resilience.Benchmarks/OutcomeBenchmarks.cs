using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Resilience;

namespace Resilience.Benchmarks;

/// <summary>Placeholder until the breaker lands: the cost of wrapping a value in an outcome.</summary>
[MemoryDiagnoser]
public class OutcomeBenchmarks
{
    [Benchmark(Baseline = true)]
    public int Bare() => Work();

    [Benchmark]
    public int ThroughOutcome() => Outcome.FromResult(Work()).GetResultOrThrow();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Work() => 42;
}
