using Resilience.CircuitBreaking;
using Resilience.Health;
using Resilience.Retry;

namespace Resilience.Npgsql;

/// <summary>Settings of the PostgreSQL adapter registered by <c>AddNpgsqlResilience</c>, bound from one configuration section.</summary>
/// <remarks>
/// Configuration keys: <c>Name</c>, <c>TotalTimeout</c>, <c>QueryTimeouts:*</c> (<see cref="QueryTimeoutOptions"/>),
/// <c>Retry:*</c> (<see cref="RetryOptions"/>), <c>CircuitBreaker:*</c> (<see cref="CircuitBreakerOptions"/>) and
/// <c>PoolHealth:*</c> (<see cref="PoolHealthOptions"/>). Validated as a whole; every broken rule is reported with its key.
/// </remarks>
public sealed class NpgsqlResilienceOptions
{
    /// <summary>Gets or sets the pool's name: the Npgsql data source name, the pipeline and circuit breaker name, the monitor's name.</summary>
    /// <value>Defaults to <c>postgres</c>.</value>
    public string Name { get; set; } = NpgsqlResilienceConstants.DefaultName;

    /// <summary>Gets or sets the limit of a whole call, retries and their delays included.</summary>
    /// <value>Defaults to <see langword="null"/>: no total limit (each attempt is bounded by <see cref="QueryTimeouts"/>). When set: 1 ms to 1 hour.</value>
    /// <remarks>It never interrupts a <c>COMMIT</c> in flight, so it cannot turn a write into an unknown outcome.</remarks>
    public TimeSpan? TotalTimeout { get; set; }

    /// <summary>Gets the default time limits of each attempt.</summary>
    public QueryTimeoutOptions QueryTimeouts { get; } = new();

    /// <summary>Gets how failed attempts are retried (only those safe to retry; see <see cref="ResilientDataSource"/>).</summary>
    /// <value>Defaults to <see cref="RetryPresets.Database"/>: 3 retries, 100 ms base delay, 2 s cap, exponential backoff with decorrelated jitter.</value>
    /// <remarks><see cref="RetryOptions.ShouldHandle"/>, when set, can only narrow the retries, never add unsafe ones.</remarks>
    public RetryOptions Retry { get; } = RetryPresets.Database;

    /// <summary>Gets the circuit breaker settings of the database.</summary>
    /// <value>Defaults to 5 consecutive failures and a 60-second break.</value>
    /// <remarks>
    /// Only infrastructure failures count (see <see cref="PostgresFailureClassifier.IsInfrastructureFailure"/>);
    /// <see cref="CircuitBreakerOptions.ShouldHandle"/>, when set, replaces that rule.
    /// </remarks>
    public CircuitBreakerOptions CircuitBreaker { get; } = new();

    /// <summary>Gets the pool health thresholds and check interval.</summary>
    public PoolHealthOptions PoolHealth { get; } = new();
}
