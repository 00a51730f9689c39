using Resilience.AdaptiveThrottling;

namespace Resilience;

/// <summary>Adds client-side adaptive throttling to a pipeline.</summary>
public static class AdaptiveThrottlingPipelineBuilderExtensions
{
    /// <summary>Refuses requests locally while the dependency accepts too few of them, with a throttler of the pipeline's own.</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The options; validated here and copied.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public static TBuilder AddAdaptiveThrottling<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, AdaptiveThrottlingOptions options)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.SetLayer(new AdaptiveThrottlingLayer.Spec(options));
    }

    /// <summary>Refuses requests locally through <paramref name="throttler"/>, shared with the other pipelines that call the same dependency.</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="throttler">The throttler.</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddAdaptiveThrottling<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, AdaptiveThrottler throttler)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(throttler);
        return builder.SetLayer(new AdaptiveThrottlingLayer.Spec(throttler));
    }
}
