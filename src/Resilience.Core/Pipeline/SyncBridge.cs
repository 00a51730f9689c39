namespace Resilience;

/// <summary>Runs synchronous operations through the (asynchronous) pipeline engine without allocating on success.</summary>
internal static class SyncBridge
{
    public static ValueTask<TResult> Invoke<TState, TResult>(Call<TState, TResult> call, CancellationToken cancellationToken) =>
        new(call.Operation(call.State, cancellationToken));

    /// <summary>Runs a synchronous operation through the one execution path, with a context that says the call is synchronous (retry delays then block this thread).</summary>
    public static TResult Run<TState, TResult>(PipelineEngine engine, Func<TState, CancellationToken, TResult> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken) =>
        RunOutcome(engine, operation, state, shouldHandleResult, cancellationToken).GetResultOrThrow();

    /// <summary>As <see cref="Run{TState, TResult}"/>, returning the outcome.</summary>
    public static Outcome<TResult> RunOutcome<TState, TResult>(PipelineEngine engine, Func<TState, CancellationToken, TResult> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(null, isSynchronous: true, cancellationToken);
        try
        {
            var pending = engine.ExecuteAsync(Invoke<TState, TResult>, new Call<TState, TResult>(operation, state), context, shouldHandleResult, cancellationToken);
            return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    public readonly struct Call<TState, TResult>
    {
        public Call(Func<TState, CancellationToken, TResult> operation, TState state)
        {
            Operation = operation;
            State = state;
        }

        public Func<TState, CancellationToken, TResult> Operation { get; }

        public TState State { get; }
    }
}
