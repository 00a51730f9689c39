namespace Resilience.Health;

/// <summary>The outcome of one pool health check: the status, why, and the figures it was decided on.</summary>
public sealed class PoolHealthReport
{
    /// <summary>Creates a report.</summary>
    /// <param name="status">The decided status.</param>
    /// <param name="snapshot">The pool figures seen by the check.</param>
    /// <param name="pingDuration">How long the ping took, or <see langword="null"/> when it failed.</param>
    /// <param name="consecutivePingFailures">Failed pings in a row, including this check's.</param>
    /// <param name="reason">Why the status was decided, in a short sentence without secrets.</param>
    /// <param name="checkedAt">When the check ran (wall clock).</param>
    public PoolHealthReport(
        PoolHealthStatus status,
        PoolSnapshot snapshot,
        TimeSpan? pingDuration,
        int consecutivePingFailures,
        string reason,
        DateTimeOffset checkedAt)
    {
        ArgumentNullException.ThrowIfNull(reason);
        Status = status;
        Snapshot = snapshot;
        PingDuration = pingDuration;
        ConsecutivePingFailures = consecutivePingFailures;
        Reason = reason;
        CheckedAt = checkedAt;
    }

    /// <summary>Gets the decided status.</summary>
    public PoolHealthStatus Status { get; }

    /// <summary>Gets the pool figures the check saw.</summary>
    public PoolSnapshot Snapshot { get; }

    /// <summary>Gets the share of the pool that was busy, from 0 to 1.</summary>
    public double Utilization => Snapshot.Utilization;

    /// <summary>Gets how long the ping took, or <see langword="null"/> when it failed.</summary>
    public TimeSpan? PingDuration { get; }

    /// <summary>Gets the number of failed pings in a row, including this check's.</summary>
    public int ConsecutivePingFailures { get; }

    /// <summary>Gets why the status was decided.</summary>
    public string Reason { get; }

    /// <summary>Gets when the check ran.</summary>
    public DateTimeOffset CheckedAt { get; }

    /// <summary>Gets a value indicating whether the pool is degraded or worse.</summary>
    public bool IsDegraded => Status >= PoolHealthStatus.Degraded;

    /// <summary>Gets a value indicating whether the pool is critical.</summary>
    public bool IsCritical => Status == PoolHealthStatus.Critical;

    /// <inheritdoc />
    public override string ToString() => $"{Status}: {Reason} ({Snapshot})";
}
