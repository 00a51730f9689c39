namespace Resilience.CircuitBreaking;

/// <summary>The pipeline's circuit breaker: asked by every attempt, outside the attempt timeout so a timed-out attempt is a failure.</summary>
internal sealed class CircuitBreakerLayer : PipelineLayer
{
    private CircuitBreakerLayer(CircuitBreaker breaker)
        : base(Describe(LayerPosition.CircuitBreaker, Options(breaker.Name, breaker.Settings))) => Breaker = breaker;

    public CircuitBreaker Breaker { get; }

    /// <inheritdoc />
    /// <remarks>Read from the breaker each time: its options may have been updated since (<see cref="CircuitBreaker.UpdateOptions"/>).</remarks>
    public override PipelineLayerDescription Description => Describe(LayerPosition.CircuitBreaker, Options(Breaker.Name, Breaker.Settings));

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken) =>
        Breaker.ExecuteCoreAsync(static (c, ct) => c.NextAsync(ct), call, call.ShouldHandleResult, cancellationToken);

    private static FormattableString Options(string name, CircuitBreakerOptions o)
    {
        if (o.Mode == CircuitBreakerMode.ConsecutiveFailures)
        {
            return $"Name={name}, Mode={o.Mode}, FailureThreshold={o.FailureThreshold}, BreakDuration={o.BreakDuration}, MaxBreakDuration={o.MaxBreakDuration}, PermittedProbes={o.PermittedProbes}";
        }

        return $"Name={name}, Mode={o.Mode}, FailureRatio={o.FailureRatio}, SamplingDuration={o.SamplingDuration}, MinimumThroughput={o.MinimumThroughput}, SlowCallThreshold={o.SlowCallThreshold}, BreakDuration={o.BreakDuration}, MaxBreakDuration={o.MaxBreakDuration}, PermittedProbes={o.PermittedProbes}";
    }

    /// <summary>The builder's configuration: a shared breaker, or options for one of the pipeline's own.</summary>
    internal sealed class Spec : PipelineLayerSpec
    {
        private readonly CircuitBreaker? _breaker;
        private readonly CircuitBreakerOptions? _options;

        public Spec(CircuitBreaker breaker) => _breaker = breaker;

        public Spec(CircuitBreakerOptions options) => _options = options;

        public override LayerPosition Position => LayerPosition.CircuitBreaker;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new CircuitBreakerLayer(_breaker ?? new CircuitBreaker(context.Name, _options!, context.TimeProvider, context.Logger, context.MeterFactory));
    }
}
