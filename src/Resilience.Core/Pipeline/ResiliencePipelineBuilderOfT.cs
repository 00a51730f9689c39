using Resilience.Fallback;

namespace Resilience;

/// <summary>Builds a <see cref="ResiliencePipeline{TResult}"/>: like <see cref="ResiliencePipelineBuilder"/>, plus results that count as failures and a cached fallback.</summary>
/// <typeparam name="TResult">The type of the operation's result.</typeparam>
public sealed class ResiliencePipelineBuilder<TResult> : ResiliencePipelineBuilderBase<ResiliencePipelineBuilder<TResult>>
{
    private Func<TResult, bool>? _shouldHandleResult;
    private CachedFallback<string, TResult>? _fallback;
    private Func<Exception, bool>? _fallbackShouldHandle;

    /// <summary>Creates a builder for a pipeline called <paramref name="name"/>.</summary>
    /// <param name="name">The pipeline's name, used in metrics, logs and exception messages.</param>
    public ResiliencePipelineBuilder(string name)
        : base(name)
    {
    }

    /// <summary>Counts results for which <paramref name="shouldHandleResult"/> returns <see langword="true"/> as failures: the breaker records them, retry retries them, the fallback replaces them.</summary>
    /// <param name="shouldHandleResult">Judges a result; use a static lambda.</param>
    /// <returns>This builder.</returns>
    public ResiliencePipelineBuilder<TResult> ShouldHandleResult(Func<TResult, bool> shouldHandleResult)
    {
        ArgumentNullException.ThrowIfNull(shouldHandleResult);
        _shouldHandleResult = shouldHandleResult;
        return this;
    }

    /// <summary>
    /// Remembers the last good result per fallback key and serves it, marked stale with its age, when the call fails
    /// (or the circuit is open) and it is younger than the cache's <see cref="CachedFallbackOptions.MaxStaleness"/>;
    /// else the cache's static fallback, else the original failure.
    /// </summary>
    /// <param name="fallback">The cache; share one per dependency if several pipelines should see the same values.</param>
    /// <param name="shouldHandle">Which exceptions the fallback may replace. Default: all but the caller's cancellation.</param>
    /// <returns>This builder.</returns>
    public ResiliencePipelineBuilder<TResult> AddFallback(CachedFallback<string, TResult> fallback, Func<Exception, bool>? shouldHandle = null)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        _fallback = fallback;
        _fallbackShouldHandle = shouldHandle;
        return this;
    }

    /// <summary>Creates the pipeline; every option is validated here.</summary>
    /// <returns>The pipeline; thread-safe and meant to be shared.</returns>
    public ResiliencePipeline<TResult> Build()
    {
        _fallback?.UseClockOf(TimeProvider);
        return new(BuildEngine(_shouldHandleResult), _shouldHandleResult, _fallback, _fallbackShouldHandle);
    }
}
