using Microsoft.Extensions.Options;
using Npgsql;
using Resilience;
using Resilience.Failures;
using Resilience.Fallback;
using Resilience.Npgsql;

namespace ContentService.Metrics;

/// <summary>Metrics options, bound from <c>Metrics</c>.</summary>
internal sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>How long a computed snapshot is served before the database is asked again (the seeds' fix: 60 s).</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How old a snapshot may be and still be served (marked stale) while the database is failing.</summary>
    public TimeSpan MaxStaleness { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Computes the metrics at most once per <see cref="MetricsOptions.CacheDuration"/> (one caller computes, the others
/// wait for it), so the aggregate queries cannot be used to load the database; while the database fails, the last
/// snapshot is served marked stale through Core's <see cref="CachedFallback{TKey, TValue}"/>.
/// </summary>
internal sealed class MetricsService : IDisposable
{
    private const string Key = "metrics";
    private readonly ResilientDataSource _db;
    private readonly TimeProvider _time;
    private readonly MetricsOptions _options;
    private readonly ResiliencePipeline<MetricsSnapshot> _lastGood;
    private readonly SemaphoreSlim _computing = new(1, 1);
    private volatile MetricsSnapshot? _fresh;

    public MetricsService(ResilientDataSource db, TimeProvider time, IOptions<MetricsOptions> options, ILoggerFactory logs)
    {
        _db = db;
        _time = time;
        _options = options.Value;
        var lastGood = new CachedFallback<string, MetricsSnapshot>(
            "metrics",
            new CachedFallbackOptions
            {
                MaxEntries = 1,
                MaxStaleness = _options.MaxStaleness,
                ShouldHandle = static e => e is DatabaseException { FailureKind: FailureKind.Unavailable or FailureKind.Timeout or FailureKind.Transient },
            },
            timeProvider: time,
            logger: logs.CreateLogger<MetricsService>());
        _lastGood = new ResiliencePipelineBuilder<MetricsSnapshot>("metrics") { TimeProvider = time }.AddFallback(lastGood).Build();
    }

    public async Task<MetricsResponse> GetAsync(CancellationToken ct)
    {
        if (Fresh() is { } cached)
        {
            return Respond(cached, stale: false);
        }

        await _computing.WaitAsync(ct);
        try
        {
            // Whoever waited while another caller computed takes that result.
            if (Fresh() is { } justComputed)
            {
                return Respond(justComputed, stale: false);
            }

            var result = await _lastGood.ExecuteWithFallbackAsync(Key, static (db, ct) => ComputeAsync(db, ct), (_db, _time), ct);
            if (result.IsStale)
            {
                return Respond(result.Value, stale: true);
            }

            _fresh = result.Value;
            return Respond(result.Value, stale: false);
        }
        finally
        {
            _computing.Release();
        }
    }

    public void Dispose() => _computing.Dispose();

    private MetricsSnapshot? Fresh() =>
        _fresh is { } snapshot && _time.GetUtcNow() - snapshot.ComputedAt < _options.CacheDuration ? snapshot : null;

    private MetricsResponse Respond(MetricsSnapshot s, bool stale) => new(
        s.Tasks, s.SuccessRate, s.CostLast30Days, s.TotalCostUsd, s.PendingCmsDeletes, s.ComputedAt,
        Math.Max(0, Math.Round((_time.GetUtcNow() - s.ComputedAt).TotalSeconds, 1)), stale,
        stale ? "The database is unavailable; these figures are the last computed." : null);

    private static ValueTask<MetricsSnapshot> ComputeAsync((ResilientDataSource Db, TimeProvider Time) s, CancellationToken ct) =>
        s.Db.ExecuteAsync(static async (command, time, ct) =>
        {
            command.CommandText = """
                SELECT status, count(*) FROM content_tasks GROUP BY status;
                SELECT provider, count(*), coalesce(sum(tokens), 0), coalesce(sum(cost_usd), 0)
                    FROM task_costs WHERE created_at >= now() - interval '30 days' GROUP BY provider ORDER BY provider;
                SELECT count(*) FROM cms_pending_deletes;
                """;
            var byStatus = new Dictionary<string, long>(StringComparer.Ordinal);
            var costs = new List<ProviderCost>();
            long pendingDeletes;
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    byStatus[reader.GetString(0)] = reader.GetInt64(1);
                }

                await reader.NextResultAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    costs.Add(new ProviderCost(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetDecimal(3)));
                }

                await reader.NextResultAsync(ct);
                await reader.ReadAsync(ct);
                pendingDeletes = reader.GetInt64(0);
            }

            var counts = new TaskCounts(Count("pending"), Count("running"), Count("completed"), Count("failed"), Count("cancelled"));
            var finished = counts.Completed + counts.Failed;
            return new MetricsSnapshot(
                counts,
                finished == 0 ? null : Math.Round((double)counts.Completed / finished, 4),
                costs,
                costs.Sum(static c => c.CostUsd),
                pendingDeletes,
                time.GetUtcNow());

            long Count(string status) => byStatus.GetValueOrDefault(status);
        }, s.Time, DbCallOptions.Idempotent, ct);
}
