using Resilience.CircuitBreaking;
using Resilience.Fallback;
using Resilience.Retry;

namespace Resilience.Benchmarks.Comparison;

/// <summary>
/// Our strategies configured like <see cref="PollySetups"/>: the same thresholds, durations, retry counts and
/// predicates, so each pair of rows does the same work. Where only we have a feature (consecutive mode, slow-call
/// detection, the cached fallback's store on success) it is named in the benchmark.
/// </summary>
internal static class OurSetups
{
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The default mode: opens after 5 consecutive failures for 60 s.</summary>
    public static CircuitBreaker ConsecutiveBreaker(TimeSpan? breakDuration = null) => new("bench-consecutive", new CircuitBreakerOptions
    {
        Mode = CircuitBreakerMode.ConsecutiveFailures,
        FailureThreshold = PollySetups.MinimumThroughput,
        BreakDuration = breakDuration ?? PollySetups.BreakDuration,
        ShouldHandle = static e => e is InvalidOperationException,
    });

    /// <summary>Polly's thresholds (ratio 0.5 over 30 s, at least 5 calls, 60 s break) plus slow-call detection when asked.</summary>
    public static CircuitBreaker RatioBreaker(bool slowCalls) => new("bench-ratio", RatioOptions(slowCalls));

    public static CircuitBreakerOptions RatioOptions(bool slowCalls) => new()
    {
        Mode = CircuitBreakerMode.FailureRatio,
        FailureRatio = PollySetups.FailureRatio,
        MinimumThroughput = PollySetups.MinimumThroughput,
        SamplingDuration = PollySetups.SamplingDuration,
        BreakDuration = PollySetups.BreakDuration,
        SlowCallThreshold = slowCalls ? TimeSpan.FromSeconds(5) : null,
        ShouldHandle = static e => e is InvalidOperationException,
    };

    /// <summary>3 retries, zero delay, exponential backoff with decorrelated jitter; retries -1 results and <see cref="InvalidOperationException"/>.</summary>
    public static ResiliencePipeline<int> Retry() => new ResiliencePipelineBuilder<int>("retry").AddRetry(RetryOptions()).Build();

    public static RetryOptions<int> RetryOptions() => new()
    {
        MaxRetries = PollySetups.MaxRetries,
        BaseDelay = TimeSpan.Zero,
        Backoff = RetryBackoff.Exponential,
        Jitter = RetryJitter.Decorrelated,
        ShouldHandleOutcome = static outcome => outcome.HasException
            ? outcome.Exception is InvalidOperationException
            : outcome.Result == FlakyOperation.FailedResult,
    };

    /// <summary>fallback → total timeout → retry → breaker → attempt timeout; the breaker in ratio mode, as Polly's.</summary>
    public static ResiliencePipeline<int> FullPipeline() =>
        new ResiliencePipelineBuilder<int>("bench")
            .ShouldHandleResult(static r => r == FlakyOperation.FailedResult)
            .AddFallback(new CachedFallback<string, int>("bench", new CachedFallbackOptions()))
            .AddTotalTimeout(TotalTimeout)
            .AddRetry(new RetryOptions
            {
                MaxRetries = PollySetups.MaxRetries,
                BaseDelay = TimeSpan.Zero,
                Backoff = RetryBackoff.Exponential,
                Jitter = RetryJitter.Decorrelated,
                ShouldHandle = static e => e is InvalidOperationException,
            })
            .AddCircuitBreaker(RatioOptions(slowCalls: false))
            .AddAttemptTimeout(AttemptTimeout)
            .Build();

    /// <summary>A breaker through the one front door: its one-layer pipeline.</summary>
    public static ResiliencePipeline Through(CircuitBreaker breaker) => new ResiliencePipelineBuilder(breaker.Name).AddCircuitBreaker(breaker).Build();
}
