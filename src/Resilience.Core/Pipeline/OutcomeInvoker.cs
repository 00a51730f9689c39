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

    /// <summary>Starts <paramref name="operation"/>; a synchronous throw comes back in <paramref name="thrown"/> (the task is then meaningless).</summary>
    /// <remarks>The exception is handed over as it is, not as a faulted task: awaiting one would throw it a second time.</remarks>
    // Out of line: an exception handler in the caller would keep its locals in memory on the success path.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static ValueTask<TResult> Start<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken, out Exception? thrown)
    {
        try
        {
            thrown = null;
            return operation(state, cancellationToken);
        }
        catch (Exception ex)
        {
            thrown = ex;
            return default;
        }
    }

    /// <summary>Runs <paramref name="operation"/>, which takes the call's context, catching its exception into the outcome.</summary>
    public static ValueTask<Outcome<TResult>> InvokeAsync<TState, TResult>(
        Func<ResilienceContext, TState, ValueTask<TResult>> operation, ResilienceContext context, TState state)
    {
        ValueTask<TResult> task;
        try
        {
            task = operation(context, state);
        }
        catch (Exception ex)
        {
            return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(ex));
        }

        return task.IsCompletedSuccessfully
            ? new ValueTask<Outcome<TResult>>(Outcome.FromResult(task.Result))
            : AwaitAsync(task);
    }

    /// <summary>Awaits <paramref name="task"/>, catching its exception into the outcome.</summary>
    // Pooled: an I/O call completes asynchronously, and each layer's state machine would otherwise be a new box per call.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
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
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static ValueTask<TResult> Unwrap<TResult>(ValueTask<Outcome<TResult>> task)
    {
        if (task.IsCompletedSuccessfully)
        {
            var outcome = task.Result;
            return outcome.HasException ? Failed<TResult>(outcome.Exception!) : new ValueTask<TResult>(outcome.Result!);
        }

        return UnwrapAsync(task);
    }

    // Out of line, so the success path above inlines into the pipeline's front door.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static ValueTask<TResult> Failed<TResult>(Exception exception) => ValueTask.FromException<TResult>(ForThrowing(exception));

    private static async ValueTask<TResult> UnwrapAsync<TResult>(ValueTask<Outcome<TResult>> task) =>
        (await task.ConfigureAwait(false)).GetResultOrThrow();

    /// <summary>An exception safe to throw: a breaker's shared rejection becomes a copy of its own.</summary>
    public static Exception ForThrowing(Exception exception) =>
        exception is ExecutionRejectedException rejected ? rejected.ForThrowing() : exception;
}
