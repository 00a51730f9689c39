using BenchmarkDotNet.Attributes;
using Polly;
using Resilience.Benchmarks.Comparison;

namespace Resilience.Benchmarks;

/// <summary>
/// The full pipeline — fallback → total timeout (30 s) → retry (3) → circuit breaker (ratio 0.5 over 30 s) →
/// attempt timeout (10 s) — on the success path, ours against Polly's equivalent. Ours also stores the result in the
/// cached fallback on every success (Polly's fallback here is a static value, which stores nothing).
/// Both sides arm their timers before the operation runs, on every call: Polly one per timeout strategy; ours one per
/// attempt, set for whichever of the attempt and total limits ends first (a pooled, reset CancellationTokenSource).
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private ResiliencePipeline<int> _ours = null!;
    private Polly.ResiliencePipeline<int> _polly = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ours = OurSetups.FullPipeline();
        _polly = PollySetups.FullPipeline();
    }

    [Benchmark(Baseline = true)]
    public ValueTask<int> Bare_Async() => Work.Async(Work.State, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Ours_ExecuteAsync() => _ours.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [Benchmark]
    public int Ours_ExecuteOutcomeAsync()
    {
        return _ours.ExecuteOutcomeAsync(Work.Async, Work.State, CancellationToken.None).Wait().GetResultOrThrow();
    }

    [Benchmark]
    public ValueTask<int> Polly_ExecuteAsync() => _polly.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [Benchmark]
    public int Polly_ExecuteOutcomeAsync() => PollyOps.ExecuteOutcome(_polly);
}
