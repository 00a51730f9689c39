using System.Runtime.CompilerServices;

namespace Resilience;

/// <summary>
/// Everything one execution needs, passed by value from layer to layer (state-passing, so no closure is allocated).
/// </summary>
/// <typeparam name="TState">The operation's state.</typeparam>
/// <typeparam name="TResult">The operation's result.</typeparam>
internal readonly struct PipelineCall<TState, TResult>
{
    /// <summary>No deadline known to the pipeline (an ambient <see cref="Timeouts.Deadline"/> may still apply).</summary>
    public const long NoDeadline = PipelineDeadline.None;

    // Either Func<TState, CancellationToken, ValueTask<TResult>> or, when _takesContext, Func<ResilienceContext, TState, ValueTask<TResult>>:
    // one field instead of two keeps the struct that every layer hop copies small.
    private readonly Delegate _operation;
    private readonly bool _takesContext;

    public PipelineCall(PipelineEngine engine, Delegate operation, bool takesContext, TState state, ResilienceContext? context, Func<TResult, bool>? shouldHandleResult)
    {
        Engine = engine;
        _operation = operation;
        _takesContext = takesContext;
        State = state;
        Context = context;
        ShouldHandleResult = shouldHandleResult;
        Deadline = NoDeadline;
    }

    // Field by field: `this = call` first made the JIT copy the whole struct twice on every layer hop.
    private PipelineCall(in PipelineCall<TState, TResult> call, int index, long deadline, ResilienceContext? context)
    {
        Engine = call.Engine;
        Index = index;
        _operation = call._operation;
        _takesContext = call._takesContext;
        State = call.State;
        Context = context;
        ShouldHandleResult = call.ShouldHandleResult;
        Deadline = deadline;
    }

    /// <summary>Gets the pipeline the call runs through: its layers and its telemetry.</summary>
    public PipelineEngine Engine { get; }

    /// <summary>Gets the index of the layer this call enters next; the number of layers means the operation.</summary>
    public int Index { get; }

    public TState State { get; }

    /// <summary>Gets the call's context; <see langword="null"/> for a call made without one until a layer needs it (<see cref="WithContext"/>).</summary>
    public ResilienceContext? Context { get; }

    public Func<TResult, bool>? ShouldHandleResult { get; }

    /// <summary>Gets when the total timeout fires, in <see cref="Time.MonotonicClock"/> time; <see cref="NoDeadline"/> without one.</summary>
    public long Deadline { get; }

    /// <summary>A call that enters the pipeline past its first layer (which is already running it).</summary>
    public static PipelineCall<TState, TResult> PastFirstLayer(PipelineEngine engine, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult) =>
        new PipelineCall<TState, TResult>(engine, operation, takesContext: false, state, context: null, shouldHandleResult).Inner();

    /// <summary>The same call, one layer further in.</summary>
    public PipelineCall<TState, TResult> Inner() => new(in this, Index + 1, Deadline, Context);

    public PipelineCall<TState, TResult> WithDeadline(long deadline) => new(in this, Index, deadline, Context);

    /// <summary>The same call with <paramref name="context"/> (a hedged attempt's, or one made for a call that had none).</summary>
    public PipelineCall<TState, TResult> WithContext(ResilienceContext context) => new(in this, Index, Deadline, context);

    /// <summary>The call's context, or a new one for a call made without (only slow paths and callbacks ask).</summary>
    public ResilienceContext GetOrCreateContext(CancellationToken cancellationToken) => Context ?? ResilienceContext.ForCall(cancellationToken);

    /// <summary>Runs the rest of the pipeline: the next layer, or the operation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask<Outcome<TResult>> NextAsync(CancellationToken cancellationToken)
    {
        var layers = Engine.Layers;
        var index = Index;
        if ((uint)index >= (uint)layers.Length)
        {
            return InvokeOperation(cancellationToken);
        }

        var inner = Inner();
        return LayerKinds.Dispatch(layers[index], in inner, cancellationToken);
    }

    private ValueTask<Outcome<TResult>> InvokeOperation(CancellationToken cancellationToken)
    {
        if (Engine.Telemetry.AttemptEnabled)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            return Engine.MeasureAttempt(Invoke(cancellationToken), started, Context);
        }

        return Invoke(cancellationToken);
    }

    private ValueTask<Outcome<TResult>> Invoke(CancellationToken cancellationToken)
    {
        if (!_takesContext)
        {
            return OutcomeInvoker.InvokeAsync(Unsafe.As<Func<TState, CancellationToken, ValueTask<TResult>>>(_operation), State, cancellationToken);
        }

        // The operation reads its attempt's token from the context: the layers' linked tokens reach it there.
        var context = Context!;
        context.CancellationToken = cancellationToken;
        return OutcomeInvoker.InvokeAsync(Unsafe.As<Func<ResilienceContext, TState, ValueTask<TResult>>>(_operation), context, State);
    }
}

/// <summary>The deadline a call carries, for code that is not generic over the call.</summary>
internal static class PipelineDeadline
{
    /// <summary>No deadline known to the pipeline, in <see cref="Time.MonotonicClock"/> time.</summary>
    public const long None = long.MaxValue;
}
