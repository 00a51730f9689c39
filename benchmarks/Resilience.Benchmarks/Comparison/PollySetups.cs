using Polly;
using Polly.CircuitBreaker;
using Polly.Fallback;
using Polly.Retry;

namespace Resilience.Benchmarks.Comparison;

/// <summary>
/// Polly v8 pipelines configured like ours in each benchmark (<see cref="OurSetups"/>): same thresholds, same timeouts,
/// same predicates, same work, so the only difference measured is the library. Polly has no consecutive-failure
/// breaker and no slow-call detection; its ratio breaker is the closest and is used for every comparison.
/// </summary>
internal static class PollySetups
{
    public const double FailureRatio = 0.5;
    public const int MinimumThroughput = 5;
    public const int MaxRetries = 3;
    public static readonly TimeSpan SamplingDuration = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(60);

    /// <summary>A break longer than any benchmark run, for the open-circuit rows (the longest Polly accepts).</summary>
    public static readonly TimeSpan LongBreak = TimeSpan.FromDays(1);

    public static Polly.ResiliencePipeline<int> CircuitBreaker(TimeSpan? breakDuration = null) =>
        new Polly.ResiliencePipelineBuilder<int>()
            .AddCircuitBreaker(BreakerOptions(breakDuration ?? BreakDuration))
            .Build();

    public static Polly.ResiliencePipeline<int> Retry() =>
        new Polly.ResiliencePipelineBuilder<int>()
            .AddRetry(RetryOptions())
            .Build();

    /// <summary>fallback → total timeout → retry → breaker → attempt timeout, as our pipeline's fixed order.</summary>
    public static Polly.ResiliencePipeline<int> FullPipeline() =>
        new Polly.ResiliencePipelineBuilder<int>()
            .AddFallback(new FallbackStrategyOptions<int>
            {
                ShouldHandle = Handles<Exception>(),
                FallbackAction = static _ => Polly.Outcome.FromResultAsValueTask(-1),
            })
            .AddTimeout(OurSetups.TotalTimeout)
            .AddRetry(RetryOptions())
            .AddCircuitBreaker(BreakerOptions(BreakDuration))
            .AddTimeout(OurSetups.AttemptTimeout)
            .Build();

    /// <summary>Trips <paramref name="pipeline"/>'s breaker with <see cref="MinimumThroughput"/> failures.</summary>
    public static void Trip(Polly.ResiliencePipeline<int> pipeline)
    {
        for (var i = 0; i < MinimumThroughput; i++)
        {
            var context = Polly.ResilienceContextPool.Shared.Get();
            _ = pipeline.ExecuteOutcomeAsync(
                static (_, _) => Polly.Outcome.FromExceptionAsValueTask<int>(new InvalidOperationException("trip")), context, 0)
                .AsTask().GetAwaiter().GetResult();
            Polly.ResilienceContextPool.Shared.Return(context);
        }
    }

    private static CircuitBreakerStrategyOptions<int> BreakerOptions(TimeSpan breakDuration) => new()
    {
        FailureRatio = FailureRatio,
        MinimumThroughput = MinimumThroughput,
        SamplingDuration = SamplingDuration,
        BreakDuration = breakDuration,
        ShouldHandle = Handles<InvalidOperationException>(),
    };

    private static RetryStrategyOptions<int> RetryOptions() => new()
    {
        MaxRetryAttempts = MaxRetries,
        Delay = TimeSpan.Zero,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        ShouldHandle = Handles<InvalidOperationException>(),
    };

    /// <summary>Exceptions of <typeparamref name="TException"/> and the -1 result, as our <c>HandleResult</c>/<c>ShouldRetry</c>.</summary>
    private static PredicateBuilder<int> Handles<TException>()
        where TException : Exception =>
        new PredicateBuilder<int>().Handle<TException>().HandleResult(FlakyOperation.FailedResult);
}
