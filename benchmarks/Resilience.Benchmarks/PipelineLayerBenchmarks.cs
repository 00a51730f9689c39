using BenchmarkDotNet.Attributes;
using Resilience.Benchmarks.Comparison;
using Resilience.Fallback;

namespace Resilience.Benchmarks;

/// <summary>
/// Diagnostics, not a comparison: our pipeline with one strategy at a time (configured as in
/// <see cref="PipelineBenchmarks"/>), so the full pipeline's overhead can be attributed to its layers.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("diagnostics")]
public class PipelineLayerBenchmarks
{
    private ResiliencePipeline<int> _empty = null!;
    private ResiliencePipeline<int> _fallback = null!;
    private ResiliencePipeline<int> _totalTimeout = null!;
    private ResiliencePipeline<int> _retry = null!;
    private ResiliencePipeline<int> _breaker = null!;
    private ResiliencePipeline<int> _attemptTimeout = null!;

    [GlobalSetup]
    public void Setup()
    {
        _empty = Builder().Build();
        _fallback = Builder().AddFallback(new CachedFallback<string, int>("bench", new CachedFallbackOptions())).Build();
        _totalTimeout = Builder().AddTotalTimeout(OurSetups.TotalTimeout).Build();
        _retry = Builder().AddRetry(OurSetups.RetryOptions()).Build();
        _breaker = Builder().AddCircuitBreaker(OurSetups.RatioOptions(slowCalls: false)).Build();
        _attemptTimeout = Builder().AddAttemptTimeout(OurSetups.AttemptTimeout).Build();
    }

    [Benchmark(Baseline = true)]
    public ValueTask<int> Bare_Async() => Work.Async(Work.State, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Layer_None() => _empty.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Layer_CachedFallback() => _fallback.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Layer_TotalTimeout() => _totalTimeout.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Layer_Retry() => _retry.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Layer_RatioBreaker() => _breaker.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [Benchmark]
    public ValueTask<int> Layer_AttemptTimeout() => _attemptTimeout.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    private static ResiliencePipelineBuilder<int> Builder() =>
        new ResiliencePipelineBuilder<int>("bench").ShouldHandleResult(static r => r == FlakyOperation.FailedResult);
}
