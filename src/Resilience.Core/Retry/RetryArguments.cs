namespace Resilience.Retry;

/// <summary>Describes a retry about to happen: which one, after how long, the failure that caused it, and the call.</summary>
public readonly struct RetryArguments
{
    internal RetryArguments(int attempt, TimeSpan delay, Exception? exception, object? result, TimeSpan? retryAfter, TimeSpan timeLeft, ResilienceContext context)
    {
        Attempt = attempt;
        Delay = delay;
        Exception = exception;
        Result = result;
        RetryAfter = retryAfter;
        TimeLeft = timeLeft;
        Context = context;
    }

    /// <summary>Gets the retry number: 1 for the first retry (the second attempt).</summary>
    public int Attempt { get; }

    /// <summary>Gets the delay before the retry (the computed backoff, or the Retry-After hint when it was longer, capped).</summary>
    public TimeSpan Delay { get; }

    /// <summary>Gets the exception the failed attempt ended with; <see langword="null"/> when a result was retried.</summary>
    public Exception? Exception { get; }

    /// <summary>Gets the result that was judged a failure (<see cref="RetryOptions{TResult}.ShouldHandleOutcome"/>); <see langword="null"/> when an exception was retried.</summary>
    public object? Result { get; }

    /// <summary>Gets the Retry-After hint read from the outcome, as the hint function returned it, if any.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Gets the time left before the deadline (total timeout, <see cref="Timeouts.Deadline"/>) when the retry was scheduled; <see cref="Timeout.InfiniteTimeSpan"/> when none is known.</summary>
    /// <remarks>The delay always ends before the deadline: a retry whose delay would not is never scheduled.</remarks>
    public TimeSpan TimeLeft { get; }

    /// <summary>Gets the call's context: its operation key and properties.</summary>
    public ResilienceContext Context { get; }
}
