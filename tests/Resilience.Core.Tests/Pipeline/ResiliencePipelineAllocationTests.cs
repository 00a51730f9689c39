using Resilience.CircuitBreaking;
using Resilience.Fallback;
using Resilience.Retry;
using Resilience.Testing;

namespace Resilience.Core.Tests.Pipeline;

// The timeouts rent from a process-wide source pool and coarse-timer table; test classes running in parallel can empty
// them for a moment, and the fallback (a new source, CancelAfter) would be counted here. Measured alone, as a caller is.
[Collection(ResiliencePipelineAllocationTests.Isolated)]
public sealed class ResiliencePipelineAllocationTests
{
    public const string Isolated = "Allocation, not run in parallel";

    private const int Iterations = 10_000;

    // A cancellable caller token: hedging links each attempt's token to it.
    private static readonly CancellationTokenSource Caller = new();

    [Fact]
    public void FullPipeline_FirstTrySuccess_CompletedValueTask_DoesNotAllocate() =>
        AssertNoAllocation(FullPipeline(), static p =>
        {
            var pending = p.ExecuteAsync(static (s, _) => new ValueTask<int>(s), 1, CancellationToken.None);
            return pending.IsCompletedSuccessfully ? pending.Result : -1_000_000;
        });

    [Fact]
    public void FullPipeline_FirstTrySuccess_Sync_DoesNotAllocate() =>
        AssertNoAllocation(FullPipeline(), static p => p.Execute(static (s, _) => s, 1));

    [Fact]
    public void RetryOnlyPipeline_FirstTrySuccess_DoesNotAllocate() =>
        AssertNoAllocation(new ResiliencePipelineBuilder("retry").AddRetry(RetryPresets.Database).Build(), static p =>
        {
            var pending = p.ExecuteAsync(static (s, _) => new ValueTask<int>(s), 1, CancellationToken.None);
            return pending.IsCompletedSuccessfully ? pending.Result : -1_000_000;
        });

    [Fact]
    public void FaultInjectionPipeline_Disabled_FirstTrySuccess_DoesNotAllocate() =>
        AssertNoAllocation(
            new ResiliencePipelineBuilder("chaos")
                .AddRetry(RetryPresets.Database)
                .AddFaultInjection(new Resilience.FaultInjection.FaultInjector(new Resilience.FaultInjection.FaultInjectionOptions { ExceptionRate = 1 }))
                .Build(),
            static p =>
            {
                var pending = p.ExecuteAsync(static (s, _) => new ValueTask<int>(s), 1, CancellationToken.None);
                return pending.IsCompletedSuccessfully ? pending.Result : -1_000_000;
            });

    [Fact]
    public void HedgingPipeline_FirstAttemptAcceptedSynchronously_DoesNotAllocate() =>
        AssertNoAllocation(
            new ResiliencePipelineBuilder("hedge")
                .AddHedging(new Resilience.Hedging.HedgingOptions { Delay = TimeSpan.Zero, MaxHedgedAttempts = 2 })
                .AddCircuitBreaker(new CircuitBreakerOptions())
                .Build(),
            static p =>
            {
                var pending = p.ExecuteAsync(static (s, _) => new ValueTask<int>(s), 1, Caller.Token);
                return pending.IsCompletedSuccessfully ? pending.Result : -1_000_000;
            });

    [Fact]
    public void AdaptiveConcurrencyPipeline_FirstTrySuccess_DoesNotAllocate() =>
        AssertNoAllocation(
            new ResiliencePipelineBuilder("adaptive")
                .AddAdaptiveConcurrencyLimit(new Resilience.AdaptiveConcurrency.AdaptiveConcurrencyOptions())
                .AddRetry(RetryPresets.Database)
                .Build(),
            static p =>
            {
                var pending = p.ExecuteAsync(static (s, _) => new ValueTask<int>(s), 1, CancellationToken.None);
                return pending.IsCompletedSuccessfully ? pending.Result : -1_000_000;
            });

    private static void AssertNoAllocation<TPipeline>(TPipeline pipeline, Func<TPipeline, int> call)
    {
        Run(pipeline, call, 100);

        long sum = 0;
        var allocated = AllocationMeter.Least(() => sum = Run(pipeline, call, Iterations));

        Assert.Equal(0, allocated);
        Assert.Equal(Iterations, sum);

        static long Run(TPipeline pipeline, Func<TPipeline, int> call, int n)
        {
            long sum = 0;
            for (var i = 0; i < n; i++)
            {
                sum += call(pipeline);
            }

            return sum;
        }
    }

    // The system clock: FakeTimeProvider's own timers allocate on every CancelAfter, which would measure the test double.
    // No timer fires here; the calls complete long before any timeout.
    private static ResiliencePipeline<int> FullPipeline()
    {
        var time = TimeProvider.System;
        return new ResiliencePipelineBuilder<int>("full") { TimeProvider = time }
            .AddFallback(new CachedFallback<string, int>("full", new CachedFallbackOptions(), timeProvider: time))
            .AddTotalTimeout(TimeSpan.FromSeconds(30))
            .AddRetry(RetryPresets.Database)
            .AddCircuitBreaker(new CircuitBreakerOptions())
            .AddAttemptTimeout(TimeSpan.FromSeconds(10))
            .Build();
    }
}

[CollectionDefinition(ResiliencePipelineAllocationTests.Isolated, DisableParallelization = true)]
public sealed class IsolatedAllocationTests;
