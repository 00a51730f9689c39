using Resilience.CircuitBreaking;
using Resilience.Health;
using Resilience.Retry;

namespace ContentService.Status;

/// <summary>The body of <c>GET /status/data</c>: everything the status page draws (<paramref name="Cluster"/> only when clustered).</summary>
internal sealed record StatusData(
    DateTimeOffset GeneratedAt,
    int RefreshMs,
    IReadOnlyList<BreakerView> Breakers,
    IReadOnlyList<LimitView> Limits,
    PoolView? Pool,
    IReadOnlyList<CounterValue> Counters,
    RetrySummary? DatabaseRetries,
    CostPanel Costs,
    ContentService.Cluster.ClusterPanel? Cluster = null);

/// <summary>One breaker: its state now and its recent transitions (oldest first).</summary>
/// <param name="Name">The logical name (<c>llm-local</c>): per-host breakers of the HTTP handler are named with the
/// upstream's scheme, host and port, which the page does not show.</param>
/// <param name="Failures">Failures counting towards opening, or null while open (the count restarts when it closes, so
/// "0" beside an open circuit read as "no failures").</param>
/// <param name="FailuresLabel">What <paramref name="Failures"/> counts in the breaker's mode.</param>
internal sealed record BreakerView(
    string Name,
    string State,
    int? Failures,
    string FailuresLabel,
    DateTimeOffset? OpenedAt,
    DateTimeOffset? NextProbeAt,
    long Rejections,
    long Transitions,
    IReadOnlyList<BreakerTransition> History)
{
    public static BreakerView From(CircuitBreakerStatus status, CircuitBreakerMode? mode, IReadOnlyList<BreakerTransition> history) => new(
        LogicalName(status.Name),
        StateName(status.State),
        status.State is CircuitState.Closed or CircuitState.HalfOpen ? status.Failures : null,
        mode == CircuitBreakerMode.FailureRatio ? "failures in the sampling window" : "failures in a row",
        status.OpenedAt,
        status.NextProbeAt,
        status.Rejections,
        status.Transitions,
        history);

    /// <summary><c>llm-local:http://127.0.0.1:5090</c> → <c>llm-local</c>; other names unchanged.</summary>
    public static string LogicalName(string name)
    {
        var scheme = name.IndexOf("://", StringComparison.Ordinal);
        var colon = scheme > 0 ? name.LastIndexOf(':', scheme - 1) : -1;
        return colon > 0 ? name[..colon] : name;
    }

    /// <summary>The names the library's meter uses for states, so the current state and the history read alike.</summary>
    public static string StateName(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        _ => "isolated",
    };
}

/// <summary>
/// One adaptive concurrency limit now: a provider client's (per upstream authority) or the database's, with its throttling
/// odds when the client throttles too. Each page refresh reads them again, so the limit is seen moving under load.
/// </summary>
/// <param name="Name">The logical name (<c>llm-local</c>, <c>postgres</c>).</param>
/// <param name="RecentLatencyMs">The mean latency of the last window that moved the limit.</param>
/// <param name="ThrottlingPercent">The share of requests refused locally now, or null without throttling.</param>
internal sealed record LimitView(string Name, int Limit, int InFlight, int Queued, double RecentLatencyMs, double? ThrottlingPercent)
{
    public static LimitView From(Resilience.AdaptiveConcurrency.AdaptiveConcurrencyLimiter limiter, Resilience.AdaptiveThrottling.AdaptiveThrottler? throttler) => new(
        BreakerView.LogicalName(limiter.Name),
        limiter.Limit,
        limiter.InFlight,
        limiter.Queued,
        Math.Round(limiter.RecentLatency.TotalMilliseconds, 1),
        throttler is null ? null : Math.Round(throttler.RejectionProbability * 100, 1));
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
