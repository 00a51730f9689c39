using Resilience.Retry;

namespace Resilience;

/// <summary>Adds the retry layer to a pipeline.</summary>
public static class RetryPipelineBuilderExtensions
{
    /// <summary>Retries failed attempts as <paramref name="options"/> say (backoff, jitter, predicates, budget).</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The retry options; validated here. An open circuit is never retried.</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddRetry<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, RetryOptions options)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        RetryOptionsValidator.ThrowIfInvalid(options);
        return builder.SetLayer(new RetryLayer.Spec(options));
    }
}
