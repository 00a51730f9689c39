using BenchmarkDotNet.Attributes;
using Polly;
using Polly.Hedging;
using Resilience.Hedging;

namespace Resilience.Benchmarks;

/// <summary>
/// Hedging when no hedge fires: the first attempt completes synchronously and is accepted (the common case the layer
/// must not tax). Both sides hedge once after 2 s; ours links each attempt's token to the caller's, as Polly does.
/// </summary>
[MemoryDiagnoser]
public class HedgingBenchmarks
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(2);
    private readonly CancellationTokenSource _caller = new();
    private ResiliencePipeline<int> _ours = null!;
    private Polly.ResiliencePipeline<int> _polly = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ours = new ResiliencePipelineBuilder<int>("bench").AddHedging(new HedgingOptions { Delay = Delay, MaxHedgedAttempts = 1 }).Build();
        _polly = new Polly.ResiliencePipelineBuilder<int>()
            .AddHedging(new HedgingStrategyOptions<int> { Delay = Delay, MaxHedgedAttempts = 1 })
            .Build();
    }

    [GlobalCleanup]
    public void Cleanup() => _caller.Dispose();

    [Benchmark(Baseline = true)]
    public ValueTask<int> Bare_Async() => Work.Async(Work.State, _caller.Token);

    [Benchmark]
    public ValueTask<int> Ours_FirstAttemptWins() => _ours.ExecuteAsync(Work.Async, Work.State, _caller.Token);

    [Benchmark]
    public ValueTask<int> Polly_FirstAttemptWins() => _polly.ExecuteAsync(Work.Async, Work.State, _caller.Token);
}
