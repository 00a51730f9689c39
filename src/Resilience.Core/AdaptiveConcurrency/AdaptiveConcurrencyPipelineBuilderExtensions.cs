using Resilience.AdaptiveConcurrency;

namespace Resilience;

/// <summary>Adds the adaptive concurrency limit to a pipeline.</summary>
public static class AdaptiveConcurrencyPipelineBuilderExtensions
{
    /// <summary>Limits the calls in flight to what the dependency serves without its latency growing, with a limit of the pipeline's own.</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options; validated here and copied.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public static TBuilder AddAdaptiveConcurrencyLimit<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, AdaptiveConcurrencyOptions options)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.SetLayer(new AdaptiveConcurrencyLayer.Spec(options));
    }

    /// <summary>Limits the calls in flight with <paramref name="limiter"/>, shared with the other pipelines that call the same dependency.</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="limiter">The limiter.</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddAdaptiveConcurrencyLimit<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, AdaptiveConcurrencyLimiter limiter)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(limiter);
        return builder.SetLayer(new AdaptiveConcurrencyLayer.Spec(limiter));
    }
}
