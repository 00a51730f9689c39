using Resilience.CircuitBreaking;
using Resilience.Health;
using Resilience.Retry;

namespace ContentService.Status;

/// <summary>The body of <c>GET /status/data</c>: everything the status page draws.</summary>
internal sealed record StatusData(
    DateTimeOffset GeneratedAt,
    int RefreshMs,
    IReadOnlyList<BreakerView> Breakers,
    PoolView? Pool,
    IReadOnlyList<CounterValue> Counters,
    RetrySummary? DatabaseRetries,
    CostPanel Costs);

/// <summary>One breaker: its state now and its recent transitions (oldest first).</summary>
internal sealed record BreakerView(
    string Name,
    string State,
    int Failures,
    DateTimeOffset? OpenedAt,
    DateTimeOffset? NextProbeAt,
    long Rejections,
    long Transitions,
    IReadOnlyList<BreakerTransition> History)
{
    public static BreakerView From(CircuitBreakerStatus status, IReadOnlyList<BreakerTransition> history) => new(
        status.Name,
        StateName(status.State),
        status.Failures,
        status.OpenedAt,
        status.NextProbeAt,
        status.Rejections,
        status.Transitions,
        history);

    /// <summary>The names the library's meter uses for states, so the current state and the history read alike.</summary>
    public static string StateName(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        _ => "isolated",
    };
}

/// <summary>The pool's latest health report and its recent samples (oldest first).</summary>
internal sealed record PoolView(
    string Name,
    string Status,
    string? Reason,
    DateTimeOffset? CheckedAt,
    int MaxSize,
    int Busy,
    int Idle,
    int Waiters,
    long AcquireTimeouts,
    double? PingMs,
    double? P99AcquireWaitMs,
    IReadOnlyList<PoolSample> Samples)
{
    public static PoolView From(PoolHealthMonitor monitor, IReadOnlyList<PoolSample> samples)
    {
        var report = monitor.Current;
        return report is null
            ? new PoolView(monitor.Name, "Unknown", "not checked yet", null, 0, 0, 0, 0, 0, null, null, samples)
            : new PoolView(
                monitor.Name,
                report.Status.ToString(),
                report.Reason,
                report.CheckedAt,
                report.Snapshot.MaxSize,
                report.Snapshot.Busy,
                report.Snapshot.Idle,
                report.Snapshot.Waiters,
                report.Snapshot.AcquireTimeouts,
                report.PingDuration?.TotalMilliseconds,
                report.Snapshot.P99AcquireWait?.TotalMilliseconds,
                samples);
    }
}

/// <summary>The database pipeline's retry statistics.</summary>
internal sealed record RetrySummary(long Calls, long FirstTrySuccesses, long RetriedSuccesses, long Exhausted, long TotalRetries, double SuccessRate)
{
    public static RetrySummary? From(RetryStatistics? statistics) =>
        statistics?.GetSnapshot() is { } r ? new RetrySummary(r.Calls, r.FirstTrySuccesses, r.RetriedSuccesses, r.Exhausted, r.TotalRetries, r.SuccessRate) : null;
}
