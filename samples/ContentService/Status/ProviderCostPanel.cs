using Microsoft.Extensions.Options;
using Resilience.Fallback;
using Resilience.Npgsql;

namespace ContentService.Status;

/// <summary>
/// The provider costs for the status page: each answer (figures, stale figures or an error) is reused for
/// <see cref="StatusPageOptions.CostCacheDuration"/> so a page left open (or a hundred of them) cannot load the database,
/// and while the database is down the last figures come from the library's cached fallback, marked stale with their age.
/// </summary>
internal sealed partial class ProviderCostPanel(IProviderCostSource source, TimeProvider time, IOptions<StatusPageOptions> options, ILogger<ProviderCostPanel> logger)
    : IDisposable
{
    private const string Key = "provider-costs";

    private readonly CachedFallback<string, IReadOnlyList<ProviderCost>> _fallback = new(
        "status-provider-costs",
        new CachedFallbackOptions { MaxEntries = 1, MaxStaleness = TimeSpan.FromHours(1), ShouldHandle = static e => e is DatabaseException },
        timeProvider: time);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Answer? _last;

    public async Task<CostPanel> GetAsync(CancellationToken cancellationToken)
    {
        if (Reusable() is { } reused)
        {
            return reused;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (Reusable() is { } fetchedMeanwhile)
            {
                return fetchedMeanwhile;
            }

            var panel = await ReadAsync(cancellationToken);
            Volatile.Write(ref _last, new Answer(panel, time.GetUtcNow()));
            return panel;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task<CostPanel> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var result = await _fallback.ExecuteAsync(Key, static (s, ct) => s.GetCostsAsync(ct), source, cancellationToken);
            return result.IsStale
                ? new CostPanel(result.Value, result.StoredAt, IsStale: true, ErrorId: null, "The database did not answer: these figures are from the last successful read.")
                : new CostPanel(result.Value, time.GetUtcNow(), IsStale: false, ErrorId: null, Message: null);
        }
        catch (DatabaseException e)
        {
            LogCostsUnavailable(logger, e, e.ErrorId);
            return new CostPanel([], null, IsStale: false, e.ErrorId, "Provider costs are unavailable: the database did not answer.");
        }
    }

    private CostPanel? Reusable() =>
        Volatile.Read(ref _last) is { } last && time.GetUtcNow() - last.At < options.Value.CostCacheDuration ? last.Panel : null;

    private sealed record Answer(CostPanel Panel, DateTimeOffset At);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Status page: provider costs unavailable ({ErrorId})")]
    private static partial void LogCostsUnavailable(ILogger logger, Exception exception, string errorId);
}

/// <summary>The cost panel's content: figures with the time they were read, or the error that prevented it.</summary>
internal sealed record CostPanel(IReadOnlyList<ProviderCost> Providers, DateTimeOffset? ReadAt, bool IsStale, string? ErrorId, string? Message);
