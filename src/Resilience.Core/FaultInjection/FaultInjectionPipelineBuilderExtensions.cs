using Resilience.FaultInjection;

namespace Resilience;

/// <summary>Adds fault injection (chaos) to a pipeline.</summary>
public static class FaultInjectionPipelineBuilderExtensions
{
    /// <summary>
    /// Injects the faults <paramref name="injector"/> describes, innermost (in place of the operation), while
    /// <see cref="FaultInjector.Enabled"/> is on — off by default, and then one field read per attempt.
    /// </summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="injector">The injector; keep it to switch faults on and off at run time.</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddFaultInjection<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, FaultInjector injector)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(injector);
        return builder.SetLayer(new FaultInjectionLayer.Spec(injector));
    }
}
