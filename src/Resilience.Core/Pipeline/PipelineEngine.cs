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

    public PipelineEngine(string name, PipelineLayer[] layers)
    {
        Name = name;
        _layers = layers;
        foreach (var layer in layers)
        {
            layer.Bind(layers);
        }
    }

    public string Name { get; }

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
        Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, ResilienceContext? context, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken) =>
        new PipelineCall<TState, TResult>(_layers, operation, takesContext: false, state, context, shouldHandleResult).NextAsync(cancellationToken);

    /// <summary>Runs an operation that takes the call's context.</summary>
    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(
        Func<ResilienceContext, TState, ValueTask<TResult>> operation, TState state, ResilienceContext context, Func<TResult, bool>? shouldHandleResult)
    {
        var token = context.CancellationToken;
        var pending = new PipelineCall<TState, TResult>(_layers, operation, takesContext: true, state, context, shouldHandleResult).NextAsync(token);

        // The layers set the attempt's token on the context; the caller gets its own back.
        if (pending.IsCompletedSuccessfully)
        {
            context.CancellationToken = token;
            return pending;
        }

        return RestoreTokenAsync(pending, context, token);
    }

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
}
