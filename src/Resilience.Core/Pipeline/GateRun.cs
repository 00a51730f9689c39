using System.Runtime.CompilerServices;

namespace Resilience;

/// <summary>Runs a <see cref="GateLayer"/> around what follows it: the rest of the chain, or the operation itself.</summary>
/// <remarks>
/// Generic over the struct that runs what follows (<see cref="Run{TNext, TResult}"/>): the JIT compiles one copy for
/// the chain and one for a pipeline whose only layer is the gate, each with its next step inlined, from this one source.
/// </remarks>
internal static class GateRun
{
    public static ValueTask<Outcome<TResult>> Run<TNext, TResult>(GateLayer gate, in TNext next, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
        where TNext : struct, IGateNext<TResult>
    {
        if (!gate.TryEnter(out var token, out var rejection))
        {
            return new ValueTask<Outcome<TResult>>(new Outcome<TResult>(default, rejection));
        }

        // No try/catch: what follows turns every exception into an outcome, and a handler here kept the pending result in
        // memory (copied three times per call, measured in the benchmarks).
        var pending = next.InvokeAsync(cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            gate.Exit(in token, outcome.Exception, ResultFailed(in outcome, shouldHandleResult), cancellationToken);
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return ExitWhenDoneAsync(gate, pending, token, shouldHandleResult, cancellationToken);
    }

    /// <summary>Waits for an operation a gate admitted and reports how it ended: the unfinished half of a lone gate's run.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal static async ValueTask<TResult> ExitWhenDoneAsync<TResult>(
        GateLayer gate, ValueTask<TResult> pending, GateToken token, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        TResult result;
        try
        {
            result = await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            gate.Exit(in token, e, resultFailed: false, cancellationToken);
            throw;
        }

        gate.Exit(in token, null, shouldHandleResult is not null && shouldHandleResult(result), cancellationToken);
        return result;
    }

    // Pooled: an I/O call completes asynchronously, and its state machine would otherwise be a new box per call.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<Outcome<TResult>> ExitWhenDoneAsync<TResult>(
        GateLayer gate, ValueTask<Outcome<TResult>> pending, GateToken token, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
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

        gate.Exit(in token, outcome.Exception, ResultFailed(in outcome, shouldHandleResult), cancellationToken);
        return outcome;
    }

    private static bool ResultFailed<TResult>(in Outcome<TResult> outcome, Func<TResult, bool>? shouldHandleResult) =>
        !outcome.HasException && shouldHandleResult is not null && shouldHandleResult(outcome.Result!);
}
