namespace Resilience.Retry;

/// <content>A pipeline whose only layer is a retry: its first attempt is the operation itself.</content>
internal sealed partial class RetryLayer
{
    /// <summary>
    /// Runs the operation once and returns its result when that first attempt succeeds, with nothing wrapped into an
    /// outcome on the way; a failed or unfinished first attempt enters the retry loop the chain would have entered.
    /// </summary>
    public ValueTask<TResult> RunAloneAsync<TState, TResult>(
        PipelineEngine engine, Func<TState, CancellationToken, ValueTask<TResult>> operation, TState state, Func<TResult, bool>? shouldHandleResult, CancellationToken cancellationToken)
    {
        var shouldRetry = ShouldHandleOutcomeFor<TResult>();
        var task = OutcomeInvoker.Start(operation, state, cancellationToken, out var thrown);
        ValueTask<Outcome<TResult>> first;
        if (thrown is not null)
        {
            first = new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(thrown));
        }
        else if (task.IsCompletedSuccessfully)
        {
            var result = task.Result;
            if (shouldRetry is null || !shouldRetry(Outcome.FromResult(result)))
            {
                RecordFirstTrySuccess();
                return new ValueTask<TResult>(result);
            }

            first = new ValueTask<Outcome<TResult>>(Outcome.FromResult(result));
        }
        else
        {
            first = OutcomeInvoker.AwaitAsync(task);
        }

        var call = PipelineCall<TState, TResult>.PastFirstLayer(engine, operation, state, shouldHandleResult);
        return OutcomeInvoker.Unwrap(RetryLoopAsync(first, call, cancellationToken));
    }
}
