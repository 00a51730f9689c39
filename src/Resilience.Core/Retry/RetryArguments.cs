namespace Resilience.Retry;

/// <summary>Describes a retry about to happen: which one, after how long, and the outcome that caused it.</summary>
/// <typeparam name="TResult">The type of the operation's result.</typeparam>
public readonly struct RetryArguments<TResult>
{
    internal RetryArguments(int attempt, TimeSpan delay, Outcome<TResult> outcome, TimeSpan? retryAfter, TimeSpan timeLeft)
    {
        Attempt = attempt;
        Delay = delay;
        Outcome = outcome;
        RetryAfter = retryAfter;
        TimeLeft = timeLeft;
    }

    /// <summary>Gets the retry number: 1 for the first retry (the second attempt).</summary>
    public int Attempt { get; }

    /// <summary>Gets the delay before the retry (the computed backoff, or the Retry-After hint when it was longer, capped).</summary>
    public TimeSpan Delay { get; }

    /// <summary>Gets the failed outcome that caused the retry.</summary>
    public Outcome<TResult> Outcome { get; }

    /// <summary>Gets the Retry-After hint read from the outcome, as the hint function returned it, if any.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Gets the time left before the deadline (total timeout, <see cref="Timeouts.Deadline"/>) when the retry was scheduled; <see cref="Timeout.InfiniteTimeSpan"/> when none is known.</summary>
    /// <remarks>The delay always ends before the deadline: a retry whose delay would not is never scheduled.</remarks>
    public TimeSpan TimeLeft { get; }
}
