using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Polly;
using Resilience.Benchmarks.Comparison;
using Resilience.CircuitBreaking;

namespace Resilience.Benchmarks;

/// <summary>
/// A closed breaker and a successful call: the path every healthy request takes. Each category ("sync", "async") has
/// its own bare baseline; the overhead of a row is its mean minus its baseline's.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CircuitBreakerClosedBenchmarks
{
    private CircuitBreaker _consecutive = null!;
    private ResiliencePipeline _consecutivePipeline = null!;
    private CircuitBreaker _ratioSlowCall = null!;
    private ResiliencePipeline _ratioSlowCallPipeline = null!;
    private Polly.ResiliencePipeline<int> _polly = null!;

    [GlobalSetup]
    public void Setup()
    {
        _consecutive = OurSetups.ConsecutiveBreaker();
        _consecutivePipeline = OurSetups.Through(_consecutive);
        _ratioSlowCall = OurSetups.RatioBreaker(slowCalls: true);
        _ratioSlowCallPipeline = OurSetups.Through(_ratioSlowCall);
        _polly = PollySetups.CircuitBreaker();
    }

    [BenchmarkCategory("sync"), Benchmark(Baseline = true)]
    public int Bare_Sync() => Work.Sync(Work.State);

    [BenchmarkCategory("sync"), Benchmark]
    public int Ours_Consecutive_TryAcquire() => ThroughPermit(_consecutive);

    [BenchmarkCategory("sync"), Benchmark]
    public int Ours_Consecutive_Execute() => _consecutivePipeline.Execute(Work.SyncWithToken, Work.State);

    [BenchmarkCategory("sync"), Benchmark]
    public int Ours_RatioSlowCall_TryAcquire() => ThroughPermit(_ratioSlowCall);

    [BenchmarkCategory("sync"), Benchmark]
    public int Ours_RatioSlowCall_Execute() => _ratioSlowCallPipeline.Execute(Work.SyncWithToken, Work.State);

    [BenchmarkCategory("async"), Benchmark(Baseline = true)]
    public ValueTask<int> Bare_Async() => Work.Async(Work.State, CancellationToken.None);

    [BenchmarkCategory("async"), Benchmark]
    public ValueTask<int> Ours_Consecutive_ExecuteAsync() => _consecutivePipeline.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [BenchmarkCategory("async"), Benchmark]
    public ValueTask<int> Ours_RatioSlowCall_ExecuteAsync() => _ratioSlowCallPipeline.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [BenchmarkCategory("async"), Benchmark]
    public ValueTask<int> Polly_ExecuteAsync() => _polly.ExecuteAsync(Work.Async, Work.State, CancellationToken.None);

    [BenchmarkCategory("async"), Benchmark]
    public int Polly_ExecuteOutcomeAsync() => PollyOps.ExecuteOutcome(_polly);

    /// <summary>The non-throwing, adapter-style use: acquire, call, report.</summary>
    private static int ThroughPermit(CircuitBreaker breaker)
    {
        if (!breaker.TryAcquire(out var permit))
        {
            return -1;
        }

        int result;
        try
        {
            result = Work.Sync(Work.State);
        }
        catch (Exception e)
        {
            permit.Failed(e);
            throw;
        }

        permit.Succeeded();
        return result;
    }
}

/// <summary>The benchmark operation in the shape of Polly's outcome callbacks.</summary>
internal static class PollyOps
{
    public static readonly Func<Polly.ResilienceContext, int, ValueTask<Polly.Outcome<int>>> Outcome = static (context, state) =>
    {
        var pending = Work.Async(state, context.CancellationToken);
        return Polly.Outcome.FromResultAsValueTask(pending.Result);
    };

    /// <summary>Polly's allocation-free path: a pooled context and an outcome-returning callback, awaited only if it did not complete.</summary>
    public static int ExecuteOutcome(Polly.ResiliencePipeline<int> pipeline)
    {
        var context = Polly.ResilienceContextPool.Shared.Get(CancellationToken.None);
        var outcome = pipeline.ExecuteOutcomeAsync(Outcome, context, Work.State).Wait();
        Polly.ResilienceContextPool.Shared.Return(context);
        return outcome.Result;
    }
}
