namespace Resilience.RateLimiting;

/// <summary>Thrown (or returned as an outcome) when a rate limiter refused a call.</summary>
public sealed class RateLimiterRejectedException : ExecutionRejectedException
{
    private readonly TimeSpan? _retryAfter;

    /// <summary>Initializes a new instance of the <see cref="RateLimiterRejectedException"/> class.</summary>
    public RateLimiterRejectedException()
        : base("The rate limiter rejected the call.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RateLimiterRejectedException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public RateLimiterRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RateLimiterRejectedException"/> class with a message and cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public RateLimiterRejectedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }


    /// <summary>Initializes a new instance of the <see cref="RateLimiterRejectedException"/> class with the limiter's hint.</summary>
    /// <param name="strategyName">The name of the rate-limiter strategy.</param>
    /// <param name="retryAfter">When the limiter suggests trying again, if it said.</param>
    public RateLimiterRejectedException(string? strategyName, TimeSpan? retryAfter)
        : base(retryAfter is null
            ? $"The rate limiter '{strategyName}' rejected the call."
            : $"The rate limiter '{strategyName}' rejected the call; retry after {retryAfter.Value}.")
    {
        StrategyName = strategyName;
        _retryAfter = retryAfter;
    }

    /// <summary>Gets when the limiter suggests trying again (its <c>RETRY_AFTER</c> metadata), or <see langword="null"/>.</summary>
    public override TimeSpan? RetryAfter => _retryAfter;

    /// <summary>Gets the name of the rate-limiter strategy, if any.</summary>
    public string? StrategyName { get; }
}
