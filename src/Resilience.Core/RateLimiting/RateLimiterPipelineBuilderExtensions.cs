using System.Threading.RateLimiting;
using Resilience.RateLimiting;

namespace Resilience;

/// <summary>Adds the rate limiter layer to a pipeline.</summary>
public static class RateLimiterPipelineBuilderExtensions
{
    /// <summary>Admits calls through <paramref name="limiter"/> (e.g. a <see cref="ConcurrencyLimiter"/> as a bulkhead); a rejected call fails with <see cref="RateLimiterRejectedException"/>.</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="limiter">The limiter; the caller owns and disposes it.</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddRateLimiter<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, RateLimiter limiter)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(limiter);
        return builder.SetLayer(new RateLimiterLayer.Spec(limiter));
    }
}
