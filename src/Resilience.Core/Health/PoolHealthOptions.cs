using Microsoft.Extensions.Options;

namespace Resilience.Health;

/// <summary>How often <see cref="PoolHealthMonitor"/> checks a pool and which signals make it degraded or critical.</summary>
/// <remarks>
/// Queue signals decide, raw utilization does not: a pool with every connection busy and nobody waiting is healthy.
/// Validated by <see cref="Validate"/> (the monitor calls it) and, in DI, at start-up. The ping's limits left unset follow the
/// settings that are set (as the HTTP options derive their timeouts), so one change never clashes with a default: a 1 s
/// <see cref="CheckInterval"/> alone gives a 1 s <see cref="PingTimeout"/> and a 500 ms <see cref="SlowPingThreshold"/>;
/// only a pair set contrary to each other fails validation.
/// </remarks>
public sealed class PoolHealthOptions
{
    private TimeSpan? _checkInterval;
    private TimeSpan? _pingTimeout;
    private TimeSpan? _slowPingThreshold;

    /// <summary>Gets or sets how often the pool is checked.</summary>
    /// <value>
    /// Defaults to 2 seconds (a readiness probe's pace: a short outage shows within one check), or to
    /// <see cref="PingTimeout"/> when that is set longer; between 100 ms and 1 hour.
    /// </value>
    public TimeSpan CheckInterval
    {
        get => _checkInterval ?? (_pingTimeout is { } ping && ping > PoolHealthConstants.DefaultCheckInterval ? ping : PoolHealthConstants.DefaultCheckInterval);
        set => _checkInterval = value;
    }

    /// <summary>Gets or sets how long a ping may take before it counts as failed.</summary>
    /// <value>
    /// Defaults to 5 seconds or <see cref="CheckInterval"/>, whichever is shorter (so setting only a short interval is
    /// enough); must be positive and not above <see cref="CheckInterval"/>.
    /// </value>
    public TimeSpan PingTimeout
    {
        get => _pingTimeout ?? (CheckInterval > TimeSpan.Zero && CheckInterval < PoolHealthConstants.DefaultPingTimeout ? CheckInterval : PoolHealthConstants.DefaultPingTimeout);
        set => _pingTimeout = value;
    }

    /// <summary>Gets or sets the ping duration above which the pool is degraded.</summary>
    /// <value>Defaults to 1 second or half of <see cref="PingTimeout"/>, whichever is shorter; must be positive and below <see cref="PingTimeout"/>.</value>
    public TimeSpan SlowPingThreshold
    {
        get => _slowPingThreshold ?? (PingTimeout / 2 < PoolHealthConstants.DefaultSlowPingThreshold ? PingTimeout / 2 : PoolHealthConstants.DefaultSlowPingThreshold);
        set => _slowPingThreshold = value;
    }

    /// <summary>Gets or sets how long callers must have been waiting for connections (seen at every check) before the pool is degraded.</summary>
    /// <value>Defaults to 5 seconds; zero degrades on the first check that sees a waiter.</value>
    /// <remarks>Measured between checks, so with the default interval two consecutive checks that see waiters are needed.</remarks>
    public TimeSpan WaitersSustainedFor { get; set; } = PoolHealthConstants.DefaultWaitersSustainedFor;

    /// <summary>Gets or sets the 99th-percentile acquire wait above which the pool is degraded.</summary>
    /// <value>Defaults to 1 second; must be positive. Ignored when the probe does not know acquire waits.</value>
    public TimeSpan AcquireWaitBudget { get; set; } = PoolHealthConstants.DefaultAcquireWaitBudget;

    /// <summary>Gets or sets how long the pool stays degraded after a check saw the acquire-timeout counter increase.</summary>
    /// <value>Defaults to 2 minutes; must be positive.</value>
    /// <remarks>
    /// The pool is critical at the check that saw the counter rise, or while callers still wait for connections; while it has
    /// no idle connection it stays degraded (not critical) for the rest of the window. A check that finds a connection idle
    /// and nobody waiting reports Healthy whatever the window holds, so one timeout never keeps readiness down.
    /// </remarks>
    public TimeSpan AcquireTimeoutWindow { get; set; } = PoolHealthConstants.DefaultAcquireTimeoutWindow;

    /// <summary>Gets or sets how old a report the health check may serve; an older one makes it check now.</summary>
    /// <value>Defaults to 5 seconds; between 0 (always check) and 1 hour.</value>
    /// <remarks>So a long <see cref="CheckInterval"/> never serves a stale "Healthy" through an exhaustion.</remarks>
    public TimeSpan MaxReportAge { get; set; } = PoolHealthConstants.DefaultMaxReportAge;

    /// <summary>Gets or sets how many consecutive failed pings make the pool critical (fewer make it degraded).</summary>
    /// <value>Defaults to 3; between 1 and 100.</value>
    public int CriticalAfterPingFailures { get; set; } = PoolHealthConstants.DefaultCriticalAfterPingFailures;

    /// <summary>Checks every setting and throws one exception listing every rule broken.</summary>
    /// <exception cref="OptionsValidationException">A setting is out of range; the message names each key and rule.</exception>
    public void Validate()
    {
        var result = PoolHealthOptionsValidator.Instance.Validate(Options.DefaultName, this);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(PoolHealthOptions), result.Failures);
        }
    }

    /// <summary>Gets a value indicating whether <see cref="PingTimeout"/> was set (not derived).</summary>
    internal bool PingTimeoutIsSet => _pingTimeout.HasValue;

    /// <summary>Gets a value indicating whether <see cref="CheckInterval"/> was set (not derived).</summary>
    internal bool CheckIntervalIsSet => _checkInterval.HasValue;

    internal PoolHealthOptions Clone() => (PoolHealthOptions)MemberwiseClone();
}
