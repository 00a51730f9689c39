using Resilience.Retry;

namespace Resilience;

/// <summary>The configurable slots of a named pipeline, bound from <c>Resilience:Pipelines:{name}</c>.</summary>
/// <remarks>
/// Keys: <c>TotalTimeout</c>, <c>AttemptTimeout</c>, <c>ConcurrencyLimit</c>, <c>QueueLimit</c>,
/// <c>Retry:{MaxRetries|BaseDelay|MaxDelay|Backoff|BackoffFactor|Jitter}</c>,
/// <c>RetryBudget:{MaxTokens|DepositPerSuccess|MinRetriesPerSecond}</c> and <c>CircuitBreaker:{…}</c> (the breaker's keys).
/// A slot whose section is absent stays off. Durations are written <c>"hh:mm:ss"</c>.
/// </remarks>
public sealed class ResiliencePipelineOptions
{
    /// <summary>Gets or sets the limit on the whole call, retries included.</summary>
    /// <value>Default: <see langword="null"/> (no total timeout).</value>
    public TimeSpan? TotalTimeout { get; set; }

    /// <summary>Gets or sets the limit on each attempt (the seeds' <c>QUERY_TIMEOUT_SECONDS</c>).</summary>
    /// <value>Default: <see langword="null"/> (no attempt timeout).</value>
    public TimeSpan? AttemptTimeout { get; set; }

    /// <summary>Gets or sets how many calls may run at once (a bulkhead).</summary>
    /// <value>Default: <see langword="null"/> (no limit).</value>
    public int? ConcurrencyLimit { get; set; }

    /// <summary>Gets or sets how many calls may wait for a slot when <see cref="ConcurrencyLimit"/> is reached.</summary>
    /// <value>Default: 0 (reject at once).</value>
    public int QueueLimit { get; set; }

    /// <summary>Gets or sets the retry slot (the seeds' <c>RETRY_MAX_ATTEMPTS</c>, <c>RETRY_INITIAL_DELAY</c>, <c>RETRY_MAX_DELAY</c>).</summary>
    /// <value>Default: <see langword="null"/> (no retry).</value>
    public RetryOptions? Retry { get; set; }

    /// <summary>Gets or sets the retry budget shared by every call of this pipeline.</summary>
    /// <value>Default: <see langword="null"/> (no budget).</value>
    public RetryBudgetOptions? RetryBudget { get; set; }

    /// <summary>Gets or sets whether the pipeline has a circuit breaker (configured under <c>CircuitBreaker</c>, the seeds'
    /// <c>CIRCUIT_BREAKER_FAILURE_THRESHOLD</c> and <c>CIRCUIT_BREAKER_RECOVERY_TIMEOUT</c>).</summary>
    /// <value>Default: <see langword="false"/>; set when the <c>CircuitBreaker</c> section is present.</value>
    public bool CircuitBreaker { get; set; }
}
