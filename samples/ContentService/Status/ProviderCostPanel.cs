using ContentService.Metrics;
using Resilience.Npgsql;

namespace ContentService.Status;

/// <summary>
/// The status page's provider costs, from the service's metrics: computed at most once per <c>Metrics:CacheDuration</c>,
/// so a page left open (or a hundred of them) cannot load the database, and served stale with their age while the
/// database is down. Before any successful read, a database outage shows as its error ID.
/// </summary>
internal sealed partial class ProviderCostPanel(MetricsService metrics, ILogger<ProviderCostPanel> logger)
{
    public async Task<CostPanel> GetAsync(CancellationToken cancellationToken)
    {
        try
        {
            var snapshot = await metrics.GetAsync(cancellationToken);
            var providers = snapshot.CostLast30Days
                .OrderByDescending(static c => c.CostUsd)
                .ThenBy(static c => c.Provider, StringComparer.Ordinal)
                .ToArray();
            return new CostPanel(providers, snapshot.ComputedAt, snapshot.Stale, ErrorId: null, snapshot.StaleReason);
        }
        catch (DatabaseException e)
        {
            LogCostsUnavailable(logger, e, e.ErrorId);
            return new CostPanel([], null, IsStale: false, e.ErrorId, "Provider costs are unavailable: the database did not answer.");
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Status page: provider costs unavailable ({ErrorId})")]
    private static partial void LogCostsUnavailable(ILogger logger, Exception exception, string errorId);
}

/// <summary>The cost panel's content: figures with the time they were computed, or the error that prevented it.</summary>
internal sealed record CostPanel(IReadOnlyList<ProviderCost> Providers, DateTimeOffset? ReadAt, bool IsStale, string? ErrorId, string? Message);
