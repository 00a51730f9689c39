namespace Resilience.AdaptiveThrottling;

/// <summary>A request refused by client-side adaptive throttling: the dependency has been refusing most requests, so this one was not sent.</summary>
public sealed class AdaptiveThrottlingRejectedException : ExecutionRejectedException
{
    private readonly TimeSpan? _retryAfter;

    /// <summary>Initializes a new instance of the <see cref="AdaptiveThrottlingRejectedException"/> class.</summary>
    public AdaptiveThrottlingRejectedException()
        : base("The request was throttled locally.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AdaptiveThrottlingRejectedException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public AdaptiveThrottlingRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AdaptiveThrottlingRejectedException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public AdaptiveThrottlingRejectedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    internal AdaptiveThrottlingRejectedException(string throttlerName, double probability, TimeSpan retryAfter)
        : base($"'{throttlerName}' refused the request locally: the dependency accepted too few of the recent ones (refusing {probability:P0}); try again in {retryAfter.TotalSeconds:0.#} s.")
    {
        ThrottlerName = throttlerName;
        Probability = probability;
        _retryAfter = retryAfter;
    }

    /// <summary>Gets the name of the throttler that refused the request.</summary>
    public string? ThrottlerName { get; }

    /// <summary>Gets the probability of refusal when the request was refused.</summary>
    public double Probability { get; }

    /// <summary>Gets when the window will have moved on by one tenth: about when the odds change.</summary>
    public override TimeSpan? RetryAfter => _retryAfter;
}
