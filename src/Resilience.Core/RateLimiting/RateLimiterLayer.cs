using System.Threading.RateLimiting;

namespace Resilience.RateLimiting;

/// <summary>The pipeline's rate limiter (or bulkhead): outermost but for the fallback, so a rejected call costs nothing inside.</summary>
internal sealed class RateLimiterLayer : PipelineLayer
{
    private readonly RateLimiterStrategy _strategy;

    private RateLimiterLayer(RateLimiterStrategy strategy, RateLimiter limiter)
        : base(LayerKind.RateLimiter, limiter, $"Limiter={limiter.GetType().Name}") => _strategy = strategy;

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken) =>
        _strategy.ExecuteCoreAsync(static (c, ct) => c.NextAsync(ct), call, cancellationToken);

    /// <summary>The builder's configuration: the caller's limiter.</summary>
    internal sealed class Spec(RateLimiter limiter) : PipelineLayerSpec
    {
        public override LayerKind Kind => LayerKind.RateLimiter;

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) =>
            new RateLimiterLayer(new RateLimiterStrategy(limiter, context.Name, context.Logger, context.MeterFactory), limiter);
    }
}
