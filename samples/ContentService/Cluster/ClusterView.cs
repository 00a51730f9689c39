using Npgsql;
using Resilience.Cluster;

namespace ContentService.Cluster;

/// <summary>
/// What the status page shows of the cluster: this instance's coordinator, every live instance with its last heartbeat,
/// and the shared state — the cluster-wide breakers as the store holds them, and each client's use of the current window.
/// </summary>
/// <remarks>
/// The instances and shared state are read from the cluster store's own tables (documented in docs/guide/cluster.md), in
/// two round trips on a connection of its own, at most once a second whatever the page's refresh rate, and never for
/// longer than a second: a slow or absent database shows as such on the page instead of holding it.
/// </remarks>
internal sealed class ClusterView : IAsyncDisposable
{
    private const string InstancesSql =
        "SELECT id, (extract(epoch FROM expires_at) * 1000)::bigint FROM resilience_cluster_instance WHERE expires_at > now() ORDER BY id";

    // The store keeps a row per breaker from its first opening only: before it, the breaker is closed for the cluster.
    private const string BreakersSql = """
        SELECT n.name, coalesce(b.open, false), coalesce(b.epoch, 0), (extract(epoch FROM b.open_until) * 1000)::bigint,
               (SELECT count(*)::int FROM resilience_cluster_vote v
                  JOIN resilience_cluster_instance i ON i.id = v.instance AND i.expires_at > now()
                 WHERE v.breaker = n.name AND v.expires_at > now())
          FROM unnest($1::text[]) AS n(name) LEFT JOIN resilience_cluster_breaker b ON b.name = n.name
        """;

    // Which quota table the store has: one row per limit and window (resilience_cluster_quota), or, since the store tracks
    // each instance's lease, one row per instance too (resilience_cluster_quota_lease).
    private const string QuotaTablesSql =
        "SELECT to_regclass('resilience_cluster_quota') IS NOT NULL, to_regclass('resilience_cluster_quota_lease') IS NOT NULL, to_regclass('resilience_cluster_budget') IS NOT NULL";

    // The shared retry budgets' buckets, in tokens (the store counts millionths of a token); a bucket has a row from its first lease.
    private const string BudgetsSql = "SELECT name, units / 1000000.0 FROM resilience_cluster_budget WHERE name = ANY($1)";

    private const string QuotaSql =
        "SELECT DISTINCT ON (name) name, window_no, used FROM resilience_cluster_quota WHERE name LIKE 'content-service:%' ORDER BY name, window_no DESC";

    private const string QuotaLeaseSql = """
        SELECT DISTINCT ON (name) name, window_no, sum(taken)::bigint FROM resilience_cluster_quota_lease
         WHERE name LIKE 'content-service:%' GROUP BY name, window_no ORDER BY name, window_no DESC
        """;

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);

    private readonly ClusterCoordinator _coordinator;
    private readonly ProviderBreakerSharing _breakers;
    private readonly ClusterKeyLimits _limits;
    private readonly ProviderRetryBudgets _budgets;
    private readonly TimeProvider _time;
    private readonly TimeSpan _leaseTime;
    private readonly NpgsqlDataSource _dataSource;
    private readonly SemaphoreSlim _reading = new(1, 1);
    private StoreState? _last;

    public ClusterView(ClusterCoordinator coordinator, ProviderBreakerSharing breakers, ClusterKeyLimits limits, ProviderRetryBudgets budgets, IConfiguration configuration, TimeProvider time)
    {
        _budgets = budgets;
        _coordinator = coordinator;
        _breakers = breakers;
        _limits = limits;
        _time = time;
        var options = new ClusterOptions();
        configuration.GetSection(ClusterServiceCollectionExtensions.Section).Bind(options);
        _leaseTime = options.LeaseTime;
        _dataSource = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("ContentDb"))
        {
            MaxPoolSize = 1,
            Timeout = 1,
            ApplicationName = "content-service-cluster-view",
        }.ConnectionString).Build();
    }

    public async Task<ClusterPanel> GetAsync(CancellationToken cancellationToken)
    {
        var store = await ReadStoreAsync(cancellationToken);
        var shared = new List<SharedBreakerView>();
        foreach (var breaker in _breakers.Breakers)
        {
            var name = Status.BreakerView.LogicalName(breaker.Name);
            var record = store.Breakers.FirstOrDefault(b => b.Name == breaker.Name);
            shared.Add(new SharedBreakerView(
                name,
                Status.BreakerView.StateName(breaker.State),
                record is null ? null : record.Open ? "open" : "closed",
                record?.Epoch ?? 0,
                record?.OpenUntil,
                record?.Votes ?? 0));
        }

        shared.Sort(static (x, y) => string.CompareOrdinal(x.Name, y.Name));
        var limits = new List<SharedLimitView>();
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var limiter in _limits.Limiters)
        {
            var statistics = limiter.GetStatistics();
            var window = nowMs / (long)limiter.Window.TotalMilliseconds;
            var used = store.Quota.TryGetValue("content-service:" + limiter.Key, out var q) && q.Window == window ? q.Used : (long?)null;
            limits.Add(new SharedLimitView(
                limiter.Key,
                limiter.PermitLimit,
                (int)limiter.Window.TotalSeconds,
                used,
                statistics?.CurrentAvailablePermits ?? 0,
                // A call admitted on credit was refused by the shared limiter first.
                (statistics?.TotalSuccessfulLeases ?? 0) + limiter.CreditedCalls,
                (statistics?.TotalFailedLeases ?? 0) - limiter.CreditedCalls,
                limiter.CreditedCalls));
        }

        limits.Sort(static (x, y) => string.CompareOrdinal(x.Key, y.Key));
        var budgets = new List<SharedBudgetView>();
        foreach (var (client, budget) in _budgets.Budgets)
        {
            budgets.Add(new SharedBudgetView(
                client,
                Math.Round(budget.AvailableTokens, 2),
                store.Budgets.TryGetValue(client, out var tokens) ? Math.Round(tokens, 2) : null,
                budget.Rejections));
        }

        budgets.Sort(static (x, y) => string.CompareOrdinal(x.Client, y.Client));
        return new ClusterPanel(
            _coordinator.InstanceId,
            _coordinator.IsConnected,
            _coordinator.LiveInstances,
            _coordinator.StoreQueries,
            _coordinator.Notifications,
            store.Error,
            store.ReadAt,
            store.Instances,
            shared,
            limits,
            budgets);
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        _reading.Dispose();
    }

    private async Task<StoreState> ReadStoreAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_last is { } last && now - last.ReadAt < CacheFor)
        {
            return last;
        }

        await _reading.WaitAsync(cancellationToken);
        try
        {
            if (_last is { } again && now - again.ReadAt < CacheFor)
            {
                return again;
            }

            _last = await QueryAsync(now, cancellationToken);
            return _last;
        }
        finally
        {
            _reading.Release();
        }
    }

    private async Task<StoreState> QueryAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            var names = new List<string>();
            foreach (var breaker in _breakers.Breakers)
            {
                names.Add(breaker.Name);
            }

            await using var batch = _dataSource.CreateBatch();
            batch.BatchCommands.Add(new NpgsqlBatchCommand(InstancesSql));
            var breakers = new NpgsqlBatchCommand(BreakersSql);
            breakers.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. names] });
            batch.BatchCommands.Add(breakers);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(QuotaTablesSql));
            await using var reader = await batch.ExecuteReaderAsync(timeout.Token);
            var instances = new List<ClusterInstanceView>();
            while (await reader.ReadAsync(timeout.Token))
            {
                var id = reader.GetString(0);
                instances.Add(new ClusterInstanceView(id, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)) - _leaseTime, id == _coordinator.InstanceId));
            }

            await reader.NextResultAsync(timeout.Token);
            var shared = new List<StoreBreaker>();
            while (await reader.ReadAsync(timeout.Token))
            {
                shared.Add(new StoreBreaker(
                    reader.GetString(0),
                    reader.GetBoolean(1),
                    reader.GetInt64(2),
                    reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                    reader.GetInt32(4)));
            }

            await reader.NextResultAsync(timeout.Token);
            await reader.ReadAsync(timeout.Token);
            var quotaSql = reader.GetBoolean(1) ? QuotaLeaseSql : reader.GetBoolean(0) ? QuotaSql : null;
            var hasBudgets = reader.GetBoolean(2);
            await reader.DisposeAsync();
            var quota = new Dictionary<string, (long Window, long Used)>(StringComparer.Ordinal);
            if (quotaSql is not null)
            {
                await using var command = _dataSource.CreateCommand(quotaSql);
                await using var rows = await command.ExecuteReaderAsync(timeout.Token);
                while (await rows.ReadAsync(timeout.Token))
                {
                    quota[rows.GetString(0)] = (rows.GetInt64(1), rows.GetInt64(2));
                }
            }

            var budgets = new Dictionary<string, double>(StringComparer.Ordinal);
            if (hasBudgets)
            {
                var clients = new List<string>();
                foreach (var (client, _) in _budgets.Budgets)
                {
                    clients.Add(client);
                }

                await using var command = _dataSource.CreateCommand(BudgetsSql);
                command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. clients] });
                await using var rows = await command.ExecuteReaderAsync(timeout.Token);
                while (await rows.ReadAsync(timeout.Token))
                {
                    budgets[rows.GetString(0)] = (double)rows.GetDecimal(1);
                }
            }

            return new StoreState(now, null, instances, shared, quota, budgets);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Shown on the page (the coordinator meanwhile runs every shared breaker and limit on local state).
            var reason = e switch
            {
                PostgresException { SqlState: "42P01" } => "the cluster's tables are not created yet",
                OperationCanceledException => "the store did not answer within 1 s",
                _ => "the store is unreachable",
            };
            return new StoreState(now, reason, [], [], new Dictionary<string, (long, long)>(StringComparer.Ordinal), new Dictionary<string, double>(StringComparer.Ordinal));
        }
    }

    private sealed record StoreState(
        DateTimeOffset ReadAt,
        string? Error,
        IReadOnlyList<ClusterInstanceView> Instances,
        IReadOnlyList<StoreBreaker> Breakers,
        IReadOnlyDictionary<string, (long Window, long Used)> Quota,
        IReadOnlyDictionary<string, double> Budgets);

    private sealed record StoreBreaker(string Name, bool Open, long Epoch, DateTimeOffset? OpenUntil, int Votes);
}

/// <summary>The cluster on the status page (<c>cluster</c> in <c>/status/data</c>; absent when the instance runs alone).</summary>
/// <param name="StoreError">Why the shared state could not be read, or null.</param>
/// <param name="Instances">The live instances (heartbeat within the lease time).</param>
internal sealed record ClusterPanel(
    string InstanceId,
    bool Connected,
    int LiveInstances,
    long StoreQueries,
    long Notifications,
    string? StoreError,
    DateTimeOffset ReadAt,
    IReadOnlyList<ClusterInstanceView> Instances,
    IReadOnlyList<SharedBreakerView> Breakers,
    IReadOnlyList<SharedLimitView> Limits,
    IReadOnlyList<SharedBudgetView> RetryBudgets);

/// <summary>A live instance and its last heartbeat.</summary>
internal sealed record ClusterInstanceView(string Id, DateTimeOffset LastHeartbeat, bool This);

/// <summary>A cluster-wide breaker: its state here and as the cluster holds it (null when the store could not be read).</summary>
/// <param name="Votes">Live instances whose vote ("it failed here") is within the vote window.</param>
internal sealed record SharedBreakerView(string Name, string LocalState, string? ClusterState, long Epoch, DateTimeOffset? OpenUntil, int Votes);

/// <summary>One client's cluster-wide allowance: the permits the instances leased from the current window (in slices spent locally; never more than the limit; null: none yet) and this instance's counts (<paramref name="Granted"/> includes the calls admitted on credit).</summary>
internal sealed record SharedLimitView(string Key, int Limit, int WindowSeconds, long? LeasedInWindow, long LocalAvailable, long Granted, long Refused, long Credited);

/// <summary>An LLM client's cluster-wide retry budget: the tokens this instance holds (leased from the cluster's bucket in
/// slices), the tokens left in the cluster's bucket (null before its first lease or when the store could not be read), and
/// the retries this instance's budget refused.</summary>
internal sealed record SharedBudgetView(string Client, double LocalTokens, double? ClusterTokens, long Refused);
