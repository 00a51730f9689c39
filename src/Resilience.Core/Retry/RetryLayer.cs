namespace Resilience.Retry;

/// <summary>The pipeline's retry: inside the total timeout (whose deadline it respects), outside the breaker (asked on every attempt).</summary>
internal sealed class RetryLayer : PipelineLayer
{
    private RetryLayer(RetryStrategy strategy, RetryOptions options)
        : base(Describe(
            LayerPosition.Retry,
            $"MaxRetries={options.MaxRetries}, Backoff={options.Backoff}, BaseDelay={options.BaseDelay}, MaxDelay={options.MaxDelay}, BackoffFactor={options.BackoffFactor}, Jitter={options.Jitter}, Budget={options.Budget is not null}")) =>
        Strategy = strategy;

    public RetryStrategy Strategy { get; }

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken) =>
        Strategy.ExecuteCoreAsync(static (c, ct) => c.NextAsync(ct), call, call.Deadline, cancellationToken);

    /// <summary>The builder's configuration: the caller's validated options.</summary>
    /// <param name="options">The caller's validated options.</param>
    /// <param name="statistics">Counters to update (a pipeline rebuilt by a reload keeps its counters); new ones when <see langword="null"/>.</param>
    internal sealed class Spec(RetryOptions options, RetryStatistics? statistics = null) : PipelineLayerSpec
    {
        public override LayerPosition Position => LayerPosition.Retry;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new RetryLayer(new RetryStrategy(PipelineRetryOptions.For(options, context.Name, context.ShouldHandleResult), context.TimeProvider, context.Logger, context.Random, statistics, context.MeterFactory), options);
    }
}
