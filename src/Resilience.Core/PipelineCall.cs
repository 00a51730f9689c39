namespace Resilience;

/// <summary>
/// Everything one execution needs, passed by value from layer to layer (state-passing, so no closure is allocated).
/// </summary>
/// <typeparam name="TState">The operation's state.</typeparam>
/// <typeparam name="TResult">The operation's result.</typeparam>
internal readonly struct PipelineCall<TState, TResult>
{
    public PipelineCall(PipelineLayer[] layers, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult)
    {
        Layers = layers;
        Operation = operation;
        State = state;
        ShouldHandleResult = shouldHandleResult;
        Deadline = Retry.RetryStrategy.NoDeadline;
    }

    // Field by field: `this = call` first made the JIT copy the whole struct twice on every layer hop.
    private PipelineCall(in PipelineCall<TState, TResult> call, int index, long deadline)
    {
        Layers = call.Layers;
        Index = index;
        Operation = call.Operation;
        State = call.State;
        ShouldHandleResult = call.ShouldHandleResult;
        Deadline = deadline;
    }

    public PipelineLayer[] Layers { get; }

    /// <summary>Gets the index of the layer this call enters next; <see cref="Layers"/>' length means the operation.</summary>
    public int Index { get; }

    public Func<TState, CancellationToken, ValueTask<TResult>> Operation { get; }

    public TState State { get; }

    public Func<TResult, bool>? ShouldHandleResult { get; }

    /// <summary>Gets when the total timeout fires, in <see cref="Time.MonotonicClock"/> time; <see cref="Retry.RetryStrategy.NoDeadline"/> without one.</summary>
    public long Deadline { get; }

    /// <summary>The same call, one layer further in.</summary>
    public PipelineCall<TState, TResult> Inner() => new(in this, Index + 1, Deadline);

    public PipelineCall<TState, TResult> WithDeadline(long deadline) => new(in this, Index, deadline);

    /// <summary>Runs the rest of the pipeline: the next layer, or the operation.</summary>
    public ValueTask<Outcome<TResult>> NextAsync(CancellationToken cancellationToken) => PipelineEngine.Next(in this, cancellationToken);
}
