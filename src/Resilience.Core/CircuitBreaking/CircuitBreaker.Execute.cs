using System.Runtime.CompilerServices;

namespace Resilience.CircuitBreaking;

/// <content>The execute overloads, and the code that runs an operation under a permit and records its outcome.</content>
public sealed partial class CircuitBreaker
{
    /// <summary>Runs <paramref name="operation"/> through the breaker, passing <paramref name="state"/> so the delegate can be static.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token; its cancellation never counts as a failure.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="BrokenCircuitException">The circuit rejected the call.</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteCoreAsync(operation, state, null, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> through the breaker; results for which <paramref name="shouldHandleResult"/> returns <see langword="true"/> count as failures (and are still returned).</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="shouldHandleResult">Judges a result; use a static lambda.</param>
    /// <param name="cancellationToken">The caller's token; its cancellation never counts as a failure.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="BrokenCircuitException">The circuit rejected the call.</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool> shouldHandleResult, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(shouldHandleResult);
        return ExecuteCoreAsync(operation, state, shouldHandleResult, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> through the breaker (convenience overload; a capturing lambda allocates).</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="cancellationToken">The caller's token; its cancellation never counts as a failure.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="BrokenCircuitException">The circuit rejected the call.</exception>
    public ValueTask<TResult> ExecuteAsync<TResult>(Func<CancellationToken, ValueTask<TResult>> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteCoreAsync(static (op, ct) => op(ct), operation, null, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> through the breaker and returns its outcome instead of throwing.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token; its cancellation never counts as a failure.</param>
    /// <returns>
    /// The result, the operation's exception, or — when rejected — a <see cref="BrokenCircuitException"/> cached per
    /// opening (no allocation per rejection; its <see cref="BrokenCircuitException.RemainingBreak"/> is as of the opening).
    /// </returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteOutcomeCoreAsync(operation, state, null, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> through the breaker, judging results with <paramref name="shouldHandleResult"/>, and returns its outcome instead of throwing.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="shouldHandleResult">Judges a result; use a static lambda.</param>
    /// <param name="cancellationToken">The caller's token; its cancellation never counts as a failure.</param>
    /// <returns>The result, the operation's exception, or a cached <see cref="BrokenCircuitException"/> when rejected.</returns>
    public ValueTask<Outcome<TResult>> ExecuteOutcomeAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool> shouldHandleResult, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(shouldHandleResult);
        return ExecuteOutcomeCoreAsync(operation, state, shouldHandleResult, cancellationToken);
    }

    /// <summary>Runs a synchronous <paramref name="operation"/> through the breaker, passing <paramref name="state"/>.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="BrokenCircuitException">The circuit rejected the call.</exception>
    /// <remarks>Without a token to tell who canceled, an <see cref="OperationCanceledException"/> is never counted.</remarks>
    public TResult Execute<TState, TResult>(Func<TState, TResult> operation, TState state)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteCore(operation, state, null);
    }

    /// <summary>Runs a synchronous <paramref name="operation"/> through the breaker, judging results with <paramref name="shouldHandleResult"/>.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="shouldHandleResult">Judges a result; use a static lambda.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="BrokenCircuitException">The circuit rejected the call.</exception>
    public TResult Execute<TState, TResult>(Func<TState, TResult> operation, TState state, Func<TResult, bool> shouldHandleResult)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(shouldHandleResult);
        return ExecuteCore(operation, state, shouldHandleResult);
    }

    /// <summary>Runs a synchronous <paramref name="operation"/> through the breaker (convenience overload).</summary>
    /// <typeparam name="TResult">The type of the result.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="BrokenCircuitException">The circuit rejected the call.</exception>
    public TResult Execute<TResult>(Func<TResult> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteCore(static op => op(), operation, null);
    }

    /// <summary>Runs <paramref name="operation"/>, which returns nothing, through the breaker.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token; its cancellation never counts as a failure.</param>
    /// <returns>A task that completes when the operation does.</returns>
    /// <exception cref="BrokenCircuitException">The circuit rejected the call.</exception>
    public ValueTask ExecuteAsync<TState>(Func<TState, CancellationToken, ValueTask> operation, TState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return VoidOperation.Discard(ExecuteCoreAsync(static (c, ct) => VoidOperation.InvokeAsync(c, ct), new VoidOperation.Async<TState>(operation, state), null, cancellationToken));
    }

    /// <summary>Runs <paramref name="operation"/>, which returns nothing, through the breaker (convenience overload; a capturing lambda allocates).</summary>
    /// <param name="operation">The operation.</param>
    /// <param name="cancellationToken">The caller's token; its cancellation never counts as a failure.</param>
    /// <returns>A task that completes when the operation does.</returns>
    /// <exception cref="BrokenCircuitException">The circuit rejected the call.</exception>
    public ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteAsync(static (op, ct) => op(ct), operation, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/>, which returns nothing, through the breaker and returns its outcome instead of throwing.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's token; its cancellation never counts as a failure.</param>
    /// <returns>Success, the operation's exception, or a cached <see cref="BrokenCircuitException"/> when rejected.</returns>
    public ValueTask<Outcome<VoidResult>> ExecuteOutcomeAsync<TState>(Func<TState, CancellationToken, ValueTask> operation, TState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteOutcomeCoreAsync(static (c, ct) => VoidOperation.InvokeAsync(c, ct), new VoidOperation.Async<TState>(operation, state), null, cancellationToken);
    }

    /// <summary>Runs a synchronous <paramref name="operation"/>, which returns nothing, through the breaker.</summary>
    /// <typeparam name="TState">The type of the state.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <param name="state">The state passed to <paramref name="operation"/>.</param>
    /// <exception cref="BrokenCircuitException">The circuit rejected the call.</exception>
    /// <remarks>Without a token to tell who canceled, an <see cref="OperationCanceledException"/> is never counted.</remarks>
    public void Execute<TState>(Action<TState> operation, TState state)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ExecuteCore(static c => { c.Operation(c.State); return default(VoidResult); }, (Operation: operation, State: state), null);
    }

    /// <summary>Runs a synchronous <paramref name="operation"/>, which returns nothing, through the breaker (convenience overload).</summary>
    /// <param name="operation">The operation.</param>
    /// <exception cref="BrokenCircuitException">The circuit rejected the call.</exception>
    public void Execute(Action operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ExecuteCore(static op => { op(); return default(VoidResult); }, operation, null);
    }

    private ValueTask<TResult> ExecuteCoreAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        if (!TryAcquire(out var permit))
        {
            return ValueTask.FromException<TResult>(CreateRejection(in permit));
        }

        ValueTask<TResult> pending;
        try
        {
            pending = operation(state, cancellationToken);
        }
        catch (Exception e)
        {
            RecordException(ref permit, e, tokenKnown: true, cancellationToken);
            return ValueTask.FromException<TResult>(e);
        }

        if (pending.IsCompletedSuccessfully)
        {
            var result = pending.Result;
            RecordResult(ref permit, result, shouldHandleResult);
            return new ValueTask<TResult>(result);
        }

        return AwaitAsync(pending, permit, shouldHandleResult, cancellationToken);
    }

    private async ValueTask<TResult> AwaitAsync<TResult>(ValueTask<TResult> pending, CircuitPermit permit, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        TResult result;
        try
        {
            result = await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            RecordException(ref permit, e, tokenKnown: true, cancellationToken);
            throw;
        }

        RecordResult(ref permit, result, shouldHandleResult);
        return result;
    }

    // Inlined down to the open circuit's refusal, so a non-throwing rejection costs about what TryAcquire does: the permit,
    // the call and every other state are out of line (inlined too, they made the caller's frame several times larger).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ValueTask<Outcome<TResult>> ExecuteOutcomeCoreAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        var current = _state;
        if (current == StateOpen && _openRejection is { } open && IsFastRejected())
        {
            return new ValueTask<Outcome<TResult>>(new Outcome<TResult>(default, open));
        }

        return current == StateIsolated
            ? new ValueTask<Outcome<TResult>>(new Outcome<TResult>(default, RejectIsolated()))
            : AcquireAndRunOutcomeAsync(operation, state, shouldHandleResult, cancellationToken);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<Outcome<TResult>> AcquireAndRunOutcomeAsync<TState, TResult>(Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken) =>
        TryAcquire(out var permit)
            ? RunOutcomeAsync(permit, operation, state, shouldHandleResult, cancellationToken)
            : new ValueTask<Outcome<TResult>>(new Outcome<TResult>(default, GetCachedRejection(in permit)));

    private ValueTask<Outcome<TResult>> RunOutcomeAsync<TState, TResult>(CircuitPermit permit, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        ValueTask<TResult> pending;
        try
        {
            pending = operation(state, cancellationToken);
        }
        catch (Exception e)
        {
            RecordException(ref permit, e, tokenKnown: true, cancellationToken);
            return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(e));
        }

        if (pending.IsCompletedSuccessfully)
        {
            var result = pending.Result;
            RecordResult(ref permit, result, shouldHandleResult);
            return new ValueTask<Outcome<TResult>>(Outcome.FromResult(result));
        }

        return AwaitOutcomeAsync(pending, permit, shouldHandleResult, cancellationToken);
    }

    private async ValueTask<Outcome<TResult>> AwaitOutcomeAsync<TResult>(ValueTask<TResult> pending, CircuitPermit permit, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        TResult result;
        try
        {
            result = await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            RecordException(ref permit, e, tokenKnown: true, cancellationToken);
            return Outcome.FromException<TResult>(e);
        }

        RecordResult(ref permit, result, shouldHandleResult);
        return Outcome.FromResult(result);
    }

    private TResult ExecuteCore<TState, TResult>(Func<TState, TResult> operation, TState state, Func<TResult, bool>? shouldHandleResult)
    {
        if (!TryAcquire(out var permit))
        {
            throw CreateRejection(in permit);
        }

        TResult result;
        try
        {
            result = operation(state);
        }
        catch (Exception e)
        {
            RecordException(ref permit, e, tokenKnown: false, CancellationToken.None);
            throw;
        }

        RecordResult(ref permit, result, shouldHandleResult);
        return result;
    }

    /// <summary>The pipeline's entry point: runs <paramref name="next"/> (which reports failures as outcomes) under a permit.</summary>
    internal ValueTask<Outcome<TResult>> ExecuteCoreAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<Outcome<TResult>>> next, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        if (!TryAcquire(out var permit))
        {
            return new ValueTask<Outcome<TResult>>(new Outcome<TResult>(default, GetCachedRejection(in permit)));
        }

        ValueTask<Outcome<TResult>> pending;
        try
        {
            pending = next(state, cancellationToken);
        }
        catch (Exception e)
        {
            RecordException(ref permit, e, tokenKnown: true, cancellationToken);
            return new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(e));
        }

        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            RecordOutcome(ref permit, in outcome, shouldHandleResult, cancellationToken);
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return AwaitCoreAsync(pending, permit, shouldHandleResult, cancellationToken);
    }

    private async ValueTask<Outcome<TResult>> AwaitCoreAsync<TResult>(ValueTask<Outcome<TResult>> pending, CircuitPermit permit, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        Outcome<TResult> outcome;
        try
        {
            outcome = await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            outcome = Outcome.FromException<TResult>(e);
        }

        RecordOutcome(ref permit, in outcome, shouldHandleResult, cancellationToken);
        return outcome;
    }

    private void RecordOutcome<TResult>(ref CircuitPermit permit, in Outcome<TResult> outcome, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        if (outcome.HasException)
        {
            RecordException(ref permit, outcome.Exception!, tokenKnown: true, cancellationToken);
        }
        else
        {
            RecordResult(ref permit, outcome.Result!, shouldHandleResult);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RecordResult<TResult>(ref CircuitPermit permit, TResult result, Func<TResult, bool>? shouldHandleResult)
    {
        if (shouldHandleResult is not null && shouldHandleResult(result))
        {
            permit.Failed();
        }
        else
        {
            permit.Succeeded();
        }
    }

    private void RecordException(ref CircuitPermit permit, Exception exception, bool tokenKnown, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && (!tokenKnown || cancellationToken.IsCancellationRequested))
        {
            permit.Release();
        }
        else if (_shouldHandle is not { } shouldHandle || shouldHandle(exception))
        {
            permit.Failed(exception);
        }
        else
        {
            permit.Succeeded();
        }
    }
}
