namespace Resilience;

/// <summary>Turns a throwing, value-returning operation into one returning an <see cref="Outcome{TResult}"/>, allocation-free when it completes synchronously.</summary>
/// <remarks>Shared with the pipeline: strategies pass outcomes to each other, and only the edge throws.</remarks>
internal static class OutcomeInvoker
{
    /// <summary>Runs <paramref name="operation"/>, catching its exception into the outcome.</summary>
    public static ValueTask<Outcome<TResult>> InvokeAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken)
    {
        ValueTask<TResult> task;
        try
        {
            task = operation(state, cancellationToken);
        }
        catch (Exception ex)
        {
            return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(ex));
        }

        return task.IsCompletedSuccessfully
            ? new ValueTask<Outcome<TResult>>(Outcome.FromResult(task.Result))
            : AwaitAsync(task);
    }

    /// <summary>The state-passing adapter for <see cref="InvokeAsync{TState, TResult}"/>, cached once per type pair.</summary>
    public static ValueTask<Outcome<TResult>> InvokeOperation<TState, TResult>(OperationState<TState, TResult> state, CancellationToken cancellationToken) =>
        InvokeAsync(state.Operation, state.State, cancellationToken);

    /// <summary>Awaits <paramref name="task"/>, catching its exception into the outcome.</summary>
    public static async ValueTask<Outcome<TResult>> AwaitAsync<TResult>(ValueTask<TResult> task)
    {
        try
        {
            return Outcome.FromResult(await task.ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            return Outcome.FromException<TResult>(ex);
        }
    }

    /// <summary>Unwraps a pending outcome at the edge: returns its value or throws its exception.</summary>
    public static ValueTask<TResult> Unwrap<TResult>(ValueTask<Outcome<TResult>> task)
    {
        if (task.IsCompletedSuccessfully)
        {
            var outcome = task.Result;
            return outcome.HasException
                ? ValueTask.FromException<TResult>(ForThrowing(outcome.Exception!))
                : new ValueTask<TResult>(outcome.Result!);
        }

        return UnwrapAsync(task);
    }

    private static async ValueTask<TResult> UnwrapAsync<TResult>(ValueTask<Outcome<TResult>> task) =>
        (await task.ConfigureAwait(false)).GetResultOrThrow();

    /// <summary>An exception safe to throw: a breaker's shared rejection becomes a copy of its own.</summary>
    public static Exception ForThrowing(Exception exception) =>
        exception is CircuitBreaking.BrokenCircuitException broken ? broken.ForThrowing() : exception;
}

/// <summary>An operation and its state, passed as one value so the adapter lambda stays static.</summary>
internal readonly struct OperationState<TState, TResult>
{
    public OperationState(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state)
    {
        Operation = operation;
        State = state;
    }

    public Func<TState, CancellationToken, ValueTask<TResult>> Operation { get; }

    public TState State { get; }
}
