using BenchmarkDotNet.Attributes;
using Polly;
using Resilience.Benchmarks.Comparison;
using Resilience.CircuitBreaking;
using PollyBrokenCircuitException = Polly.CircuitBreaker.BrokenCircuitException;

namespace Resilience.Benchmarks;

/// <summary>
/// An open circuit rejecting calls: the cost of failing fast. Both breakers are tripped by real failures (5 of them)
/// with a one-day break, so they stay open for the whole run. The baseline is Polly's non-throwing rejection
/// (ExecuteOutcomeAsync with a pooled context), so the Ratio column reads as "fraction of Polly's cost".
/// </summary>
[MemoryDiagnoser]
public class CircuitBreakerOpenBenchmarks
{
    private CircuitBreaker _ours = null!;
    private ResiliencePipeline _oursPipeline = null!;
    private CircuitBreaker _isolated = null!;
    private ResiliencePipeline _isolatedPipeline = null!;
    private Polly.ResiliencePipeline<int> _polly = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ours = OurSetups.ConsecutiveBreaker(PollySetups.LongBreak);
        _oursPipeline = OurSetups.Through(_ours);
        for (var i = 0; i < PollySetups.MinimumThroughput; i++)
        {
            _ = _ours.TryAcquire(out var permit);
            permit.Failed(new InvalidOperationException("trip"));
        }

        _isolated = OurSetups.ConsecutiveBreaker();

        _isolatedPipeline = OurSetups.Through(_isolated);
        _isolated.Isolate();

        _polly = PollySetups.CircuitBreaker(PollySetups.LongBreak);
        PollySetups.Trip(_polly);

        if (_ours.State != CircuitState.Open || Polly_ExecuteOutcomeAsync_Rejected() != -1)
        {
            throw new InvalidOperationException("The circuits did not open; the benchmark would measure closed breakers.");
        }
    }

    [Benchmark]
    public int Ours_TryAcquire_Refused() => _ours.TryAcquire(out var permit) ? Complete(permit) : -1;

    [Benchmark]
    public int Ours_ExecuteOutcomeAsync_Rejected()
    {
        return _oursPipeline.ExecuteOutcomeAsync(Work.Async, Work.State, CancellationToken.None).Wait().HasException ? -1 : 0;
    }

    [Benchmark]
    public int Ours_Isolated_ExecuteOutcomeAsync_Rejected()
    {
        return _isolatedPipeline.ExecuteOutcomeAsync(Work.Async, Work.State, CancellationToken.None).Wait().HasException ? -1 : 0;
    }

    [Benchmark]
    public int Ours_ExecuteAsync_Throws()
    {
        try
        {
            return _oursPipeline.ExecuteAsync(Work.Async, Work.State, CancellationToken.None).Wait();
        }
        catch (BrokenCircuitException)
        {
            return -1;
        }
    }

    [Benchmark]
    public int Ours_Execute_Throws()
    {
        try
        {
            return _oursPipeline.Execute(Work.SyncWithToken, Work.State);
        }
        catch (BrokenCircuitException)
        {
            return -1;
        }
    }

    [Benchmark(Baseline = true)]
    public int Polly_ExecuteOutcomeAsync_Rejected()
    {
        var context = Polly.ResilienceContextPool.Shared.Get(CancellationToken.None);
        var outcome = _polly.ExecuteOutcomeAsync(PollyOps.Outcome, context, Work.State).Wait();
        Polly.ResilienceContextPool.Shared.Return(context);
        return outcome.Exception is PollyBrokenCircuitException ? -1 : 0;
    }

    [Benchmark]
    public int Polly_ExecuteAsync_Throws()
    {
        try
        {
            return _polly.ExecuteAsync(Work.Async, Work.State, CancellationToken.None).Wait();
        }
        catch (PollyBrokenCircuitException)
        {
            return -1;
        }
    }

    private static int Complete(CircuitPermit permit)
    {
        permit.Succeeded();
        return 0;
    }
}
