using Microsoft.Extensions.Logging;
using Resilience.CircuitBreaking;
using Resilience.Health;
using Resilience.Retry;

namespace Resilience.Npgsql;

/// <summary>Settings of the PostgreSQL adapter registered by <c>AddNpgsqlResilience</c>, bound from one configuration section.</summary>
/// <remarks>
/// Configuration keys: <c>Name</c>, <c>TotalTimeout</c>, <c>DriverLogLevel</c>, <c>ApplyQueryTimeoutsToDataSource</c>, <c>MaxWaitingCalls</c>,
/// <c>RecoveryProbeInterval</c>, <c>ConcurrencyLimit:*</c> (<see cref="NpgsqlConcurrencyLimitOptions"/>), <c>QueryTimeouts:*</c> (<see cref="QueryTimeoutOptions"/>),
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

    /// <summary>Gets or sets how many calls may wait at once for the database to come back while its circuit breaker is not closed.</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: four times the data source's <c>Maximum Pool Size</c> (400 with Npgsql's default of 100).
    /// When set: 1 to 1,000,000.
    /// </value>
    /// <remarks>
    /// While the circuit is open or probing, a call that finds this many calls of the data source in flight fails at once with
    /// a <see cref="DatabaseException"/> of kind <see cref="Failures.FailureKind.Unavailable"/> (<c>ERR_DB_UNAVAILABLE</c>) whose
    /// <see cref="DatabaseException.RetryAfter"/> is the time until the next probe, so a web app can answer 503 with it; the
    /// calls already waiting keep waiting. With the circuit closed nothing is limited (the pool's own <c>Timeout</c> applies).
    /// </remarks>
    public int? MaxWaitingCalls { get; set; }

    /// <summary>Gets or sets how often, while a young outage holds the circuit open, the data source tries a new connection to see the server back.</summary>
    /// <value>Defaults to 25 ms; <see cref="TimeSpan.Zero"/> turns the watch off. At most 10 s.</value>
    /// <remarks>
    /// When a call finds the circuit open, a watch tries one new physical connection (outside the pool) per interval; once it
    /// has seen the server refuse and then accept, it ends the break, so the next call probes at once: the first call after a
    /// short outage waits about one interval, not the rest of a break. A circuit opened while the server was reachable keeps
    /// its break. The watch stops once the break has grown beyond <see cref="RetryOptions.MaxDelay"/> of <see cref="Retry"/>
    /// (a long outage: the breaker's own probes take over), so a database that stays down sees few connections.
    /// </remarks>
    public TimeSpan RecoveryProbeInterval { get; set; } = NpgsqlResilienceConstants.DefaultRecoveryProbeInterval;

    /// <summary>Gets the adaptive concurrency limit in front of the pool: an overloaded database sheds load at the client, before the pool's acquire timeout.</summary>
    /// <value>Off by default (see <see cref="NpgsqlConcurrencyLimitOptions.Enabled"/> for why); when on it starts at the pool's <c>Maximum Pool Size</c>.</value>
    public NpgsqlConcurrencyLimitOptions ConcurrencyLimit { get; } = new();

    /// <summary>Gets the default time limits of each attempt.</summary>
    public QueryTimeoutOptions QueryTimeouts { get; } = new();

    /// <summary>Gets or sets a value indicating whether the registered <c>NpgsqlDataSource</c>'s connections start with the default limits.</summary>
    /// <value>
    /// Defaults to <see langword="true"/>: <c>AddNpgsqlResilience</c> starts every connection of the data source it registers with
    /// <c>statement_timeout</c> and <c>lock_timeout</c> from <see cref="QueryTimeouts"/> (no round trip per call), so they also limit
    /// commands run on that data source directly. <see langword="false"/>: the connections carry no limits and each call through
    /// <see cref="ResilientDataSource"/> sets them in its own transaction (one more round trip for an idempotent single statement).
    /// </value>
    public bool ApplyQueryTimeoutsToDataSource { get; set; } = true;

    /// <summary>Gets how failed attempts are retried (only those safe to retry; see <see cref="ResilientDataSource"/>).</summary>
    /// <value>
    /// Defaults to <see cref="RetryPresets.Database"/> with 5 retries instead of 3: 100 ms base delay, 2 s cap, exponential backoff with
    /// decorrelated jitter (median delays 0.1, 0.2, 0.4, 0.8, 1.6 s), so a call rides out a restart of about three seconds.
    /// </value>
    /// <remarks><see cref="RetryOptions.ShouldHandle"/>, when set, can only narrow the retries, never add unsafe ones.</remarks>
    public RetryOptions Retry { get; } = NpgsqlResilienceConstants.CreateDefaultRetry();

    /// <summary>Gets the circuit breaker settings of the database.</summary>
    /// <value>
    /// Defaults to <see cref="CircuitBreakerMode.FailureRatio"/>: opens when at least half of the attempts of the last 5 seconds
    /// failed, once 20 attempts were made in that window; a 5-second break, then one probe. A burst of failures on one blip
    /// (a restart, terminated backends) does not open it; a server that stays down does, within seconds.
    /// </value>
    /// <remarks>
    /// Only infrastructure failures count (see <see cref="PostgresFailureClassifier.IsInfrastructureFailure"/>);
    /// <see cref="CircuitBreakerOptions.ShouldHandle"/>, when set, replaces that rule. The seeds' settings (5 failures in a
    /// row, a 60-second break) remain available: set <see cref="CircuitBreakerOptions.Mode"/> to
    /// <see cref="CircuitBreakerMode.ConsecutiveFailures"/> and <see cref="CircuitBreakerOptions.BreakDuration"/> to 60 s.
    /// </remarks>
    public CircuitBreakerOptions CircuitBreaker { get; } = NpgsqlResilienceConstants.CreateDefaultBreaker();

    /// <summary>Gets or sets a callback told before each retry of a call: the attempt about to run and the failure before it.</summary>
    /// <value>Defaults to <see langword="null"/>. Set in code; it runs on the calling thread and must not throw (an exception ends the call).</value>
    /// <remarks>Retries are also counted by the <c>Resilience</c> meter and logged; this is for code that wants to react per call.</remarks>
    public Action<DbRetryInfo>? OnRetry { get; set; }

    /// <summary>Gets or sets the clock of this database's retry delays, breaker, pool health checks and acquire-wait figures.</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: <c>AddNpgsqlResilience</c> uses the container's <see cref="System.TimeProvider"/>
    /// (<see cref="System.TimeProvider.System"/> when none is registered). Set in code; not bound from configuration.
    /// </value>
    /// <remarks>Lets one database run on its own clock (e.g. a <c>FakeTimeProvider</c> in a test) without replacing the application's.</remarks>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Gets or sets the lowest level of Npgsql's own log events passed to the application's loggers.</summary>
    /// <value>Defaults to <see cref="LogLevel.Warning"/>: Npgsql logs connection events at Information and every command at Debug.</value>
    public LogLevel DriverLogLevel { get; set; } = LogLevel.Warning;

    /// <summary>Gets the pool health thresholds and check interval.</summary>
    public PoolHealthOptions PoolHealth { get; } = new();

    /// <summary>The waiting limit in force for a pool of <paramref name="maxPoolSize"/> connections.</summary>
    internal int EffectiveMaxWaitingCalls(int maxPoolSize) =>
        MaxWaitingCalls ?? (int)Math.Min(NpgsqlResilienceConstants.MaxMaxWaitingCalls, (long)Math.Max(1, maxPoolSize) * NpgsqlResilienceConstants.DefaultWaitingCallsPerConnection);
}
