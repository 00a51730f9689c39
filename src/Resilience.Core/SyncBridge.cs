namespace Resilience;

/// <summary>Runs synchronous operations through the (asynchronous) pipeline engine without allocating on success.</summary>
internal static class SyncBridge
{
    public static ValueTask<TResult> Invoke<TState, TResult>(Call<TState, TResult> call, CancellationToken cancellationToken) =>
        new(call.Operation(call.State, cancellationToken));

    public static TResult Run<TResult>(ValueTask<Outcome<TResult>> pending) =>
        (pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult()).GetResultOrThrow();

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
