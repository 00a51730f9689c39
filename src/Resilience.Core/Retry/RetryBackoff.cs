namespace Resilience.Retry;

/// <summary>How the delay before each retry grows with the retry number.</summary>
public enum RetryBackoff
{
    /// <summary>Every retry waits <see cref="RetryOptions.BaseDelay"/>.</summary>
    Constant = 0,

    /// <summary>Retry <c>n</c> waits <c>n × BaseDelay</c>.</summary>
    Linear = 1,

    /// <summary>Retry <c>n</c> waits <c>BaseDelay × BackoffFactor^(n−1)</c>.</summary>
    Exponential = 2,
}
