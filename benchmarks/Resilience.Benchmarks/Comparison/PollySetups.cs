using Polly;
using Polly.CircuitBreaker;
using Polly.Fallback;
using Polly.Retry;
using Polly.Timeout;

namespace Resilience.Benchmarks.Comparison;

/// <summary>
/// Polly v8 pipelines configured like ours in each benchmark: same thresholds, same timeouts, same work, so the only
/// difference measured is the library. Polly has no consecutive-failure breaker; its ratio breaker is the closest.
/// </summary>
internal static class PollySetups
{
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(60);

    public static ResiliencePipeline<int> CircuitBreaker() =>
        new ResiliencePipelineBuilder<int>()
            .AddCircuitBreaker(BreakerOptions())
            .Build();

    public static (ResiliencePipeline<int> Pipeline, CircuitBreakerManualControl Control) OpenCircuitBreaker()
    {
        var control = new CircuitBreakerManualControl();
        var options = BreakerOptions();
        options.ManualControl = control;
        var pipeline = new ResiliencePipelineBuilder<int>().AddCircuitBreaker(options).Build();
        control.IsolateAsync().GetAwaiter().GetResult();
        return (pipeline, control);
    }

    public static ResiliencePipeline<int> Retry() =>
        new ResiliencePipelineBuilder<int>()
            .AddRetry(RetryOptions())
            .Build();

    /// <summary>fallback → total timeout → retry → breaker → attempt timeout, as our pipeline's fixed order.</summary>
    public static ResiliencePipeline<int> FullPipeline() =>
        new ResiliencePipelineBuilder<int>()
            .AddFallback(new FallbackStrategyOptions<int>
            {
                ShouldHandle = new PredicateBuilder<int>().Handle<Exception>(),
                FallbackAction = static _ => Polly.Outcome.FromResultAsValueTask(-1),
            })
            .AddTimeout(TimeSpan.FromSeconds(30))
            .AddRetry(RetryOptions())
            .AddCircuitBreaker(BreakerOptions())
            .AddTimeout(TimeSpan.FromSeconds(10))
            .Build();

    private static CircuitBreakerStrategyOptions<int> BreakerOptions() => new()
    {
        FailureRatio = 0.5,
        MinimumThroughput = 5,
        SamplingDuration = TimeSpan.FromSeconds(30),
        BreakDuration = BreakDuration,
        ShouldHandle = new PredicateBuilder<int>().Handle<InvalidOperationException>(),
    };

    private static RetryStrategyOptions<int> RetryOptions() => new()
    {
        MaxRetryAttempts = 3,
        Delay = TimeSpan.Zero,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        ShouldHandle = new PredicateBuilder<int>().Handle<InvalidOperationException>(),
    };
}
