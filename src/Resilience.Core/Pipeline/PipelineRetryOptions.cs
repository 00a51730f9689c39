using Resilience.CircuitBreaking;
using Resilience.Retry;

namespace Resilience;

/// <summary>Adapts the caller's retry options to the pipeline: an open circuit is never retried, and failed results are.</summary>
internal static class PipelineRetryOptions
{
    public static RetryOptions For<TResult>(RetryOptions options, string pipelineName, Func<TResult, bool>? isFailure)
    {
        var userException = options.ShouldRetryException;

        // Retrying into an open circuit only burns the budget: the rejection is the answer until the break ends.
        Func<Exception, bool> shouldRetryException = userException is null
            ? static e => e is not BrokenCircuitException and not OperationCanceledException
            : e => e is not BrokenCircuitException && userException(e);

        if (options is RetryOptions<TResult> typed)
        {
            var userTyped = typed.ShouldRetry;
            return new RetryOptions<TResult>(typed)
            {
                Name = options.Name ?? pipelineName,
                ShouldRetryException = shouldRetryException,
                ShouldRetry = userTyped is null
                    ? Default(shouldRetryException, isFailure)
                    : o => o.Exception is not BrokenCircuitException && userTyped(o),
            };
        }

        if (isFailure is null)
        {
            return new RetryOptions(options) { Name = options.Name ?? pipelineName, ShouldRetryException = shouldRetryException };
        }

        return new RetryOptions<TResult>(options)
        {
            Name = options.Name ?? pipelineName,
            ShouldRetryException = shouldRetryException,
            ShouldRetry = Default(shouldRetryException, isFailure),
        };
    }

    private static Func<Outcome<TResult>, bool>? Default<TResult>(Func<Exception, bool> shouldRetryException, Func<TResult, bool>? isFailure) =>
        isFailure is null
            ? null
            : o => o.HasException ? shouldRetryException(o.Exception!) : isFailure(o.Result!);
}
