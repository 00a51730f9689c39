using Resilience.Timeouts;

namespace Resilience;

/// <summary>Adds the total and attempt timeout layers to a pipeline.</summary>
public static class TimeoutPipelineBuilderExtensions
{
    /// <summary>Limits the whole call, retries and their delays included; when it fires the call fails with <see cref="OperationTimeoutException"/> of kind <see cref="TimeoutKind.Total"/>.</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="timeout">The limit.</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddTotalTimeout<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, TimeSpan timeout)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ResiliencePipelineBuilderBase<TBuilder>.ThrowIfNotPositive(timeout);
        return builder.SetLayer(new TotalTimeoutLayer.Spec(timeout));
    }

    /// <summary>Limits each attempt; a timed-out attempt fails with <see cref="OperationTimeoutException"/> of kind <see cref="TimeoutKind.Attempt"/>, counts as a breaker failure and may be retried.</summary>
    /// <remarks>
    /// Timeouts stop an operation through the token it is given; the timer is armed before the operation runs, so an
    /// operation that watches its token is cancelled at the limit whether it awaits or not.
    /// </remarks>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="timeout">The limit.</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddAttemptTimeout<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, TimeSpan timeout)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ResiliencePipelineBuilderBase<TBuilder>.ThrowIfNotPositive(timeout);
        return builder.SetLayer(new AttemptTimeoutLayer.Spec(timeout));
    }
}
