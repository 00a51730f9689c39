namespace ContentService.Metrics;

/// <summary>Task counts by status.</summary>
internal sealed record TaskCounts(long Pending, long Running, long Completed, long Failed, long Cancelled)
{
    public long Total => Pending + Running + Completed + Failed + Cancelled;
}

/// <summary>What one provider cost over the last 30 days.</summary>
internal sealed record ProviderCost(string Provider, long Calls, long Tokens, decimal CostUsd);

/// <summary>The figures as computed from the database at <see cref="ComputedAt"/>.</summary>
internal sealed record MetricsSnapshot(TaskCounts Tasks, double? SuccessRate, IReadOnlyList<ProviderCost> CostLast30Days, decimal TotalCostUsd, long PendingCmsDeletes, DateTimeOffset ComputedAt);

/// <summary>The body of <c>GET /api/metrics</c>: the snapshot, how old it is, and whether it is served stale because the database failed.</summary>
internal sealed record MetricsResponse(
    TaskCounts Tasks, double? SuccessRate, IReadOnlyList<ProviderCost> CostLast30Days, decimal TotalCostUsd, long PendingCmsDeletes,
    DateTimeOffset ComputedAt, double AgeSeconds, bool Stale, string? StaleReason);
