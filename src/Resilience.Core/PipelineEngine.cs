using System.Diagnostics;
using Resilience.CircuitBreaking;
using Resilience.RateLimiting;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience;

/// <summary>
/// Runs an operation through the layers a pipeline has, outermost first in their fixed <see cref="LayerPosition"/>
/// order (fallback wraps it all, in <see cref="ResiliencePipeline{TResult}"/>). Absent layers are not in the chain at
/// all. Every layer passes outcomes, not exceptions, and completes synchronously when the operation does, so the
/// success path neither allocates nor builds an async state machine.
/// </summary>
internal sealed class PipelineEngine
{
    private readonly PipelineLayer[] _layers;

    public PipelineEngine(string name, PipelineLayer[] layers)
    {
        Name = name;
        _layers = layers;
        foreach (var layer in layers)
        {
            layer.Bind(layers);
        }

        CircuitBreaker = PipelineLayer.Find<CircuitBreakerLayer>(layers)?.Breaker;
        Retry = PipelineLayer.Find<RetryLayer>(layers)?.Strategy;
    }

    public string Name { get; }

    public CircuitBreaker? CircuitBreaker { get; }

    public RetryStrategy? Retry { get; }

    /// <summary>Lists the layers outermost first, after <paramref name="outer"/> (the typed pipeline's fallback) when given.</summary>
    public IReadOnlyList<PipelineLayerDescription> Describe(PipelineLayerDescription? outer)
    {
        var offset = outer is null ? 0 : 1;
        var descriptions = new PipelineLayerDescription[_layers.Length + offset];
        if (outer is not null)
        {
            descriptions[0] = outer;
        }

        for (var i = 0; i < _layers.Length; i++)
        {
            descriptions[i + offset] = _layers[i].Description;
        }

        return descriptions;
    }

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken) =>
        Next(new PipelineCall<TState, TResult>(_layers, operation, state, shouldHandleResult), cancellationToken);

    /// <summary>Enters the call's next layer, or runs the operation when none is left.</summary>
    /// <remarks>
    /// A type switch over sealed classes, not a generic virtual method: each case is one type-handle compare and a
    /// direct call, where a generic virtual call costs a runtime lookup per layer. Each kind's line here is its registration.
    /// </remarks>
    public static ValueTask<Outcome<TResult>> Next<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        var layers = call.Layers;
        var index = call.Index;
        if ((uint)index >= (uint)layers.Length)
        {
            return OutcomeInvoker.InvokeAsync(call.Operation, call.State, cancellationToken);
        }

        var inner = call.Inner();
        return layers[index] switch
        {
            RateLimiterLayer layer => layer.ExecuteAsync(inner, cancellationToken),
            TotalTimeoutLayer layer => layer.ExecuteAsync(inner, cancellationToken),
            RetryLayer layer => layer.ExecuteAsync(inner, cancellationToken),
            Hedging.HedgingLayer layer => layer.ExecuteAsync(inner, cancellationToken),
            CircuitBreakerLayer layer => layer.ExecuteAsync(inner, cancellationToken),
            AttemptTimeoutLayer layer => layer.ExecuteAsync(inner, cancellationToken),
            FaultInjection.FaultInjectionLayer layer => layer.ExecuteAsync(inner, cancellationToken),
            var layer => throw new UnreachableException($"Layer {layer.GetType().Name} has no case in the dispatch."),
        };
    }
}
