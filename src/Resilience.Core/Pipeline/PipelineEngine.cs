using System.Diagnostics;
using Resilience.Telemetry;

namespace Resilience;

/// <summary>
/// Runs an operation through the layers a pipeline has, outermost first in the order of <see cref="LayerKind"/>
/// (fallback wraps it all, in <see cref="ResiliencePipeline{TResult}"/>). Absent layers are not in the chain at all.
/// Every layer passes outcomes, not exceptions, and completes synchronously when the operation does, so the success
/// path neither allocates nor builds an async state machine.
/// </summary>
internal sealed class PipelineEngine
{
    private readonly PipelineLayer[] _layers;
    private readonly ResilienceTagEnricher? _enricher;
    private readonly GateLayer? _soleGate;
    private readonly PipelineLayer? _loneLayer;

    public PipelineEngine(string name, PipelineLayer[] layers, PipelineTelemetry telemetry, ResilienceTagEnricher? enricher)
    {
        Name = name;
        _layers = layers;
        Telemetry = telemetry;
        _enricher = enricher;
        _loneLayer = layers.Length == 1 && LayerKinds.RunsAlone(layers[0]) ? layers[0] : null;
        _soleGate = _loneLayer as GateLayer;
        foreach (var layer in layers)
        {
            layer.Bind(layers);
        }
    }

    public string Name { get; }

    /// <summary>Gets the layers, outermost first.</summary>
    public PipelineLayer[] Layers => _layers;

    public PipelineTelemetry Telemetry { get; }

    /// <summary>Finds the pipeline's layer of type <typeparamref name="TLayer"/>, if it has one.</summary>
    public TLayer? Find<TLayer>()
        where TLayer : PipelineLayer => PipelineLayer.Find<TLayer>(_layers);

    /// <summary>Lists the layers outermost first, after <paramref name="outer"/> (the typed pipeline's fallback) when given.</summary>
    public IReadOnlyList<PipelineLayerDescriptor> Describe(PipelineLayerDescriptor? outer)
    {
        var offset = outer is null ? 0 : 1;
        var descriptors = new PipelineLayerDescriptor[_layers.Length + offset];
        if (outer is not null)
        {
            descriptors[0] = outer;
        }

        for (var i = 0; i < _layers.Length; i++)
        {
            descriptors[i + offset] = _layers[i].Describe();
        }

        return descriptors;
    }

    /// <summary>Runs an operation that takes a token; <paramref name="context"/> is the caller's, or <see langword="null"/>.</summary>
    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, ResilienceContext? context, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        // A pipeline of one gate (a standalone breaker) runs it around the operation directly: no chain to walk, nothing to measure.
        if (_soleGate is { } gate && context is null && !Telemetry.PipelineEnabled && !Telemetry.AttemptEnabled)
        {
            return GateRun.Run(gate, new OperationNext<TState, TResult>(operation, state), shouldHandleResult, cancellationToken);
        }

        return ExecuteChainAsync(operation, state, context, shouldHandleResult, cancellationToken);
    }

    /// <summary>Runs an operation that takes a token and returns its result or throws: the front door's <c>ExecuteAsync</c> without a fallback.</summary>
    public ValueTask<TResult> ExecuteUnwrappedAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        if (_loneLayer is { } layer && !Telemetry.PipelineEnabled && !Telemetry.AttemptEnabled)
        {
            return LayerKinds.RunAlone(this, layer, operation, state, shouldHandleResult, cancellationToken);
        }

        return OutcomeInvoker.Unwrap(ExecuteChainAsync(operation, state, null, shouldHandleResult, cancellationToken));
    }

    // Out of line: the chain's call struct, zeroed in the frame's prologue, would otherwise cost the sole gate's path too.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private ValueTask<Outcome<TResult>> ExecuteChainAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, ResilienceContext? context, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        var call = new PipelineCall<TState, TResult>(this, operation, takesContext: false, state, context, shouldHandleResult);
        return Telemetry.PipelineEnabled ? Measured(in call, cancellationToken) : call.NextAsync(cancellationToken);
    }

    /// <summary>Runs an operation that takes the call's context.</summary>
    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(
        Func<ResilienceContext, TState, ValueTask<TResult>> operation, TState state, ResilienceContext context, Func<TResult, bool>? shouldHandleResult)
    {
        var token = context.CancellationToken;
        var call = new PipelineCall<TState, TResult>(this, operation, takesContext: true, state, context, shouldHandleResult);
        var pending = Telemetry.PipelineEnabled ? Measured(in call, token) : call.NextAsync(token);

        // The layers set the attempt's token on the context; the caller gets its own back.
        if (pending.IsCompletedSuccessfully)
        {
            context.CancellationToken = token;
            return pending;
        }

        return RestoreTokenAsync(pending, context, token);
    }

    // Pooled: an I/O call completes asynchronously, and each layer's state machine would otherwise be a new box per call.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<Outcome<TResult>> RestoreTokenAsync<TResult>(ValueTask<Outcome<TResult>> pending, ResilienceContext context, CancellationToken token)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        finally
        {
            context.CancellationToken = token;
        }
    }

    /// <summary>Records an attempt's duration when it ends (<paramref name="started"/>: its <see cref="Stopwatch"/> timestamp).</summary>
    public ValueTask<Outcome<TResult>> MeasureAttempt<TResult>(ValueTask<Outcome<TResult>> pending, long started, ResilienceContext? context)
    {
        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            Telemetry.RecordAttempt(Name, started, outcome.Exception, context, _enricher);
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return MeasureAttemptAsync(pending, started, context);
    }

    private async ValueTask<Outcome<TResult>> MeasureAttemptAsync<TResult>(ValueTask<Outcome<TResult>> pending, long started, ResilienceContext? context)
    {
        var outcome = await pending.ConfigureAwait(false);
        Telemetry.RecordAttempt(Name, started, outcome.Exception, context, _enricher);
        return outcome;
    }

    private ValueTask<Outcome<TResult>> Measured<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var pending = call.NextAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            Telemetry.RecordPipeline(Name, started, outcome.Exception, call.Context, _enricher);
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return MeasuredAsync(pending, started, call.Context);
    }

    private async ValueTask<Outcome<TResult>> MeasuredAsync<TResult>(ValueTask<Outcome<TResult>> pending, long started, ResilienceContext? context)
    {
        var outcome = await pending.ConfigureAwait(false);
        Telemetry.RecordPipeline(Name, started, outcome.Exception, context, _enricher);
        return outcome;
    }
}
