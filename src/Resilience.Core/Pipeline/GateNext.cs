using System.Runtime.CompilerServices;

namespace Resilience;

/// <summary>What a gate lets through: the rest of the pipeline, or the operation.</summary>
/// <typeparam name="TResult">The operation's result.</typeparam>
internal interface IGateNext<TResult>
{
    ValueTask<Outcome<TResult>> InvokeAsync(CancellationToken cancellationToken);
}

/// <summary>The rest of the chain after a gate.</summary>
internal readonly struct ChainNext<TState, TResult>(in PipelineCall<TState, TResult> inner) : IGateNext<TResult>
{
    private readonly PipelineCall<TState, TResult> _inner = inner;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask<Outcome<TResult>> InvokeAsync(CancellationToken cancellationToken) => _inner.NextAsync(cancellationToken);
}

/// <summary>The operation itself, for a pipeline whose only layer is a gate and whose calls nobody measures.</summary>
internal readonly struct OperationNext<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state) : IGateNext<TResult>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask<Outcome<TResult>> InvokeAsync(CancellationToken cancellationToken) => OutcomeInvoker.InvokeAsync(operation, state, cancellationToken);
}
