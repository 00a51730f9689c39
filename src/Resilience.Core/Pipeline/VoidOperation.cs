namespace Resilience;

/// <summary>Runs operations that return nothing through the value-returning machinery, allocation-free when they complete synchronously.</summary>
internal static class VoidOperation
{
    public static ValueTask<VoidResult> InvokeAsync<TState>(Async<TState> call, CancellationToken cancellationToken)
    {
        var task = call.Operation(call.State, cancellationToken);
        if (task.IsCompletedSuccessfully)
        {
            // Consumes the result, as a pooled IValueTaskSource requires.
            task.GetAwaiter().GetResult();
            return default;
        }

        return AwaitAsync(task);
    }

    public static VoidResult Invoke<TState>(Sync<TState> call, CancellationToken cancellationToken)
    {
        call.Operation(call.State, cancellationToken);
        return default;
    }

    /// <summary>Drops the <see cref="VoidResult"/> of a pending call.</summary>
    public static ValueTask Discard(ValueTask<VoidResult> task)
    {
        if (task.IsCompletedSuccessfully)
        {
            _ = task.Result;
            return default;
        }

        return DiscardAsync(task);
    }

    private static async ValueTask<VoidResult> AwaitAsync(ValueTask task)
    {
        await task.ConfigureAwait(false);
        return default;
    }

    private static async ValueTask DiscardAsync(ValueTask<VoidResult> task) => await task.ConfigureAwait(false);

    /// <summary>An asynchronous operation that returns nothing, with its state.</summary>
    public readonly struct Async<TState>(Func<TState, CancellationToken, ValueTask> operation, TState state)
    {
        public Func<TState, CancellationToken, ValueTask> Operation { get; } = operation;

        public TState State { get; } = state;
    }

    /// <summary>A synchronous operation that returns nothing, with its state.</summary>
    public readonly struct Sync<TState>(Action<TState, CancellationToken> operation, TState state)
    {
        public Action<TState, CancellationToken> Operation { get; } = operation;

        public TState State { get; } = state;
    }
}
