namespace Resilience.Retry;

/// <summary>Describes why a retry strategy gave up on a failure it would otherwise have retried.</summary>
/// <typeparam name="TResult">The type of the operation's result.</typeparam>
public readonly struct RetryStoppedArguments<TResult>
{
    internal RetryStoppedArguments(int retries, RetryStopReason reason, TimeSpan delay, TimeSpan? retryAfter, TimeSpan timeLeft, Outcome<TResult> outcome, ResilienceContext context)
    {
        Context = context;
        Retries = retries;
        Reason = reason;
        Delay = delay;
        RetryAfter = retryAfter;
        TimeLeft = timeLeft;
        Outcome = outcome;
    }

    /// <summary>Gets how many retries were made before stopping.</summary>
    public int Retries { get; }

    /// <summary>Gets why the retries stopped.</summary>
    public RetryStopReason Reason { get; }

    /// <summary>Gets the delay the next retry would have waited (after the Retry-After hint was applied); <see cref="TimeSpan.Zero"/> unless <see cref="Reason"/> is <see cref="RetryStopReason.DeadlineReached"/>.</summary>
    public TimeSpan Delay { get; }

    /// <summary>Gets the Retry-After hint read from the outcome, as the hint function returned it, if any.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Gets the time left before the deadline; <see cref="Timeout.InfiniteTimeSpan"/> when no deadline is known.</summary>
    public TimeSpan TimeLeft { get; }

    /// <summary>Gets the last failure, which is what the caller receives.</summary>
    public Outcome<TResult> Outcome { get; }

    /// <summary>Gets the call's context: its operation key and properties.</summary>
    public ResilienceContext Context { get; }
}
