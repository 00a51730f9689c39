namespace Resilience.Retry;

/// <summary>Describes a retry about to happen: which one, after how long, and the outcome that caused it.</summary>
/// <typeparam name="TResult">The type of the operation's result.</typeparam>
public readonly struct RetryArguments<TResult>
{
    internal RetryArguments(int attempt, TimeSpan delay, Outcome<TResult> outcome)
    {
        Attempt = attempt;
        Delay = delay;
        Outcome = outcome;
    }

    /// <summary>Gets the retry number: 1 for the first retry (the second attempt).</summary>
    public int Attempt { get; }

    /// <summary>Gets the delay before the retry.</summary>
    public TimeSpan Delay { get; }

    /// <summary>Gets the failed outcome that caused the retry.</summary>
    public Outcome<TResult> Outcome { get; }
}
