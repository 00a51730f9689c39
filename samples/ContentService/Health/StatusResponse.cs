using Resilience.CircuitBreaking;
using Resilience.Health;

namespace ContentService.Health;

/// <summary>The body of <c>GET /status</c>.</summary>
internal sealed record StatusResponse(IReadOnlyList<CircuitBreakerStatus> CircuitBreakers, PoolSummary? DatabasePool, RetrySummary? DatabaseRetries);

/// <summary>The pool's latest health report, flattened for JSON.</summary>
internal sealed record PoolSummary(string Status, string Reason, DateTimeOffset CheckedAt, int MaxSize, int Busy, int Idle, int Waiters, long AcquireTimeouts, double? PingMs)
{
    public static PoolSummary From(PoolHealthReport report) => new(
        report.Status.ToString(),
        report.Reason,
        report.CheckedAt,
        report.Snapshot.MaxSize,
        report.Snapshot.Busy,
        report.Snapshot.Idle,
        report.Snapshot.Waiters,
        report.Snapshot.AcquireTimeouts,
        report.PingDuration?.TotalMilliseconds);
}

/// <summary>The database pipeline's retry statistics.</summary>
internal sealed record RetrySummary(long Calls, long FirstTrySuccesses, long RetriedSuccesses, long Exhausted, long TotalRetries, double SuccessRate);
