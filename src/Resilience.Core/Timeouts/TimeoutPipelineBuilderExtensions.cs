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
        return builder.SetLayer(new TotalTimeoutLayer.Spec(new TimeoutOptions { Timeout = timeout, Kind = TimeoutKind.Total }));
    }

    /// <summary>Limits the whole call as <see cref="AddTotalTimeout{TBuilder}(ResiliencePipelineBuilderBase{TBuilder}, TimeSpan)"/> does, with a callback.</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The limit and the <see cref="TimeoutOptions.OnTimeout"/> callback; validated here (<see cref="TimeoutOptions.Kind"/> is ignored).</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddTotalTimeout<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, TimeoutOptions options)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        TimeoutOptionsValidator.ThrowIfInvalid(options);
        return builder.SetLayer(new TotalTimeoutLayer.Spec(options));
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
        return builder.SetLayer(new AttemptTimeoutLayer.Spec(new TimeoutOptions { Timeout = timeout, Kind = TimeoutKind.Attempt }));
    }

    /// <summary>Limits each attempt as <see cref="AddAttemptTimeout{TBuilder}(ResiliencePipelineBuilderBase{TBuilder}, TimeSpan)"/> does, with a callback.</summary>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The limit and the <see cref="TimeoutOptions.OnTimeout"/> callback; validated here (<see cref="TimeoutOptions.Kind"/> is ignored).</param>
    /// <returns>The builder.</returns>
    public static TBuilder AddAttemptTimeout<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, TimeoutOptions options)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        TimeoutOptionsValidator.ThrowIfInvalid(options);
        return builder.SetLayer(new AttemptTimeoutLayer.Spec(options));
    }
}
