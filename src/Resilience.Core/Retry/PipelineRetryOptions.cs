namespace Resilience.Retry;

/// <summary>Adapts the caller's retry options to the pipeline: a refusal (an open circuit) is never retried, and failed results are.</summary>
internal static class PipelineRetryOptions
{
    public static RetryOptions For<TResult>(RetryOptions options, string pipelineName, Func<TResult, bool>? shouldHandleResult)
    {
        var userException = options.ShouldHandle;

        // Retrying into an open circuit only burns the budget: the rejection is the answer until the break ends, unless the
        // caller asked to wait out short breaks (a young outage the next probe may already find over).
        Func<Exception, bool> shouldHandle;
        if (options.WaitOutShortBreaks)
        {
            var limit = options.MaxDelay;
            shouldHandle = userException is null
                ? e => e is ExecutionRejectedException refused ? refused.IsBrief(limit) : e is not OperationCanceledException
                : e => e is ExecutionRejectedException refused ? refused.IsBrief(limit) : userException(e);
        }
        else
        {
            shouldHandle = userException is null
                ? static e => e is not ExecutionRejectedException and not OperationCanceledException
                : e => e is not ExecutionRejectedException && userException(e);
        }

        if (options is RetryOptions<TResult> typed)
        {
            var userTyped = typed.ShouldHandleOutcome;
            return new RetryOptions<TResult>(typed)
            {
                Name = options.Name ?? pipelineName,
                ShouldHandle = shouldHandle,
                ShouldHandleOutcome = userTyped is null
                    ? Default(shouldHandle, shouldHandleResult)
                    : o => o.Exception is ExecutionRejectedException refused ? options.WaitOutShortBreaks && refused.IsBrief(options.MaxDelay) : userTyped(o),
            };
        }

        if (options.ResultType is not null)
        {
            // Typed for another result type than the pipeline's (e.g. in an untyped pipeline): they keep their type, so their
            // callbacks apply to calls of that type and any other type is refused, instead of the callbacks being dropped.
            return options.ForPipeline(options.Name ?? pipelineName, shouldHandle);
        }

        if (shouldHandleResult is null)
        {
            return new RetryOptions(options) { Name = options.Name ?? pipelineName, ShouldHandle = shouldHandle };
        }

        return new RetryOptions<TResult>(options)
        {
            Name = options.Name ?? pipelineName,
            ShouldHandle = shouldHandle,
            ShouldHandleOutcome = Default(shouldHandle, shouldHandleResult),
        };
    }

    private static Func<Outcome<TResult>, bool>? Default<TResult>(Func<Exception, bool> shouldHandle, Func<TResult, bool>? shouldHandleResult) =>
        shouldHandleResult is null
            ? null
            : o => o.HasException ? shouldHandle(o.Exception!) : shouldHandleResult(o.Result!);
}
