namespace Resilience.AdaptiveConcurrency;

/// <summary>A call the adaptive concurrency limit refused: the limit was reached and the queue was full, or the wait for a slot ran out.</summary>
public sealed class ConcurrencyLimitRejectedException : ExecutionRejectedException
{
    private readonly TimeSpan? _retryAfter;

    /// <summary>Initializes a new instance of the <see cref="ConcurrencyLimitRejectedException"/> class.</summary>
    public ConcurrencyLimitRejectedException()
        : base("The concurrency limit was reached.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConcurrencyLimitRejectedException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public ConcurrencyLimitRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConcurrencyLimitRejectedException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ConcurrencyLimitRejectedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    internal ConcurrencyLimitRejectedException(string limiterName, int limit, bool waited, TimeSpan retryAfter)
        : base(waited
            ? $"The concurrency limit of '{limiterName}' ({limit}) stayed reached for as long as the call could wait; try again in {retryAfter.TotalMilliseconds:0} ms."
            : $"The concurrency limit of '{limiterName}' ({limit}) is reached and its queue is full; try again in {retryAfter.TotalMilliseconds:0} ms.")
    {
        LimiterName = limiterName;
        Limit = limit;
        _retryAfter = retryAfter;
    }

    /// <summary>Gets the name of the limiter that refused the call.</summary>
    public string? LimiterName { get; }

    /// <summary>Gets the limit in force when the call was refused.</summary>
    public int Limit { get; }

    /// <summary>Gets the recent mean latency of the dependency: about when a slot frees up.</summary>
    public override TimeSpan? RetryAfter => _retryAfter;

    /// <summary>
    /// Never brief for a retry that waits out short refusals: the call already waited in the queue as long as it should, and
    /// retrying would stretch that bounded wait into the retry's (a limit placed per attempt is inside the retry).
    /// </summary>
    internal override bool IsBrief(TimeSpan limit) => false;
}
