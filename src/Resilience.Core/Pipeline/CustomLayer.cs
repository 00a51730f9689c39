namespace Resilience;

/// <summary>Runs a user's <see cref="ResilienceLayer"/> as one layer of the chain.</summary>
internal sealed class CustomLayer : PipelineLayer
{
    private readonly ResilienceLayer _layer;

    private CustomLayer(LayerKind kind, ResilienceLayer layer)
        : base(kind, layer, $"Name={layer.Name}") => _layer = layer;

    public override PipelineLayerDescriptor Describe() => new(_layer.Name, _layer, $"Position={Kind}");

    public ValueTask<Outcome<TResult>> ExecuteAsync<TState, TResult>(in PipelineCall<TState, TResult> call, CancellationToken cancellationToken)
    {
        // A call made without a context gets a pooled one for the rest of its way in, returned when the layer is done.
        var context = call.Context;
        var rented = context is null;
        context ??= ResilienceContextPool.Shared.Get(null, isSynchronous: false, cancellationToken);
        context.CancellationToken = cancellationToken;
        ValueTask<Outcome<TResult>> pending;
        try
        {
            pending = _layer.InvokeAsync(static (ctx, c) => c.NextAsync(ctx.CancellationToken), context, rented ? call.WithContext(context) : call);
        }
        catch (Exception e)
        {
            pending = new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(e));
        }

        if (!rented)
        {
            return pending;
        }

        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            ResilienceContextPool.Shared.Return(context);
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return ReturnAfterAsync(pending, context);
    }

    private static async ValueTask<Outcome<TResult>> ReturnAfterAsync<TResult>(ValueTask<Outcome<TResult>> pending, ResilienceContext context)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return Outcome.FromException<TResult>(e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>The custom layers added at one position, in the order they were added (the first outermost).</summary>
    internal sealed class Spec(LayerKind kind) : PipelineLayerSpec
    {
        private readonly List<ResilienceLayer> _layers = [];

        public override LayerKind Kind => kind;

        public void Add(ResilienceLayer layer) => _layers.Add(layer);

        public override PipelineLayer Create<TResult>(LayerContext<TResult> context) => new CustomLayer(kind, _layers[0]);

        public override void AddTo<TResult>(List<PipelineLayer> layers, LayerContext<TResult> context)
        {
            foreach (var layer in _layers)
            {
                layers.Add(new CustomLayer(kind, layer));
            }
        }
    }
}
