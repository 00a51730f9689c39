using Resilience.CircuitBreaking;

namespace Resilience;

/// <summary>Adds the circuit breaker layer to a pipeline.</summary>
public static class CircuitBreakerPipelineBuilderExtensions
{
    /// <summary>Guards every attempt with <paramref name="breaker"/>, e.g. one shared per dependency from a <see cref="CircuitBreakerRegistry"/>.</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="breaker">The breaker.</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddCircuitBreaker<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, CircuitBreaker breaker)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(breaker);
        return builder.SetLayer(new CircuitBreakerLayer.Spec(breaker));
    }

    /// <summary>Guards every attempt with a new breaker of its own, named after the pipeline.</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The breaker options; validated when the pipeline is built.</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddCircuitBreaker<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, CircuitBreakerOptions options)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder.SetLayer(new CircuitBreakerLayer.Spec(options));
    }
}
