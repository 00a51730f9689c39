using Npgsql;
using Resilience.Cluster;

namespace Resilience.Npgsql.Cluster;

/// <summary>A <see cref="ClusterStore"/> on PostgreSQL: tables for heartbeats, votes, breaker states and quota, created idempotently on first use.</summary>
/// <remarks>
/// <para>Transitions are announced with <c>NOTIFY resilience_cluster</c> on a dedicated listening connection, so other
/// instances apply them within a round trip rather than at their next sync. The one probe of a break is a lease on the
/// breaker's row (the holder's lease lapses if it crashes); a quota slice is one <c>INSERT … ON CONFLICT DO UPDATE … RETURNING</c>
/// batched with the limiter's advisory lock (one round trip), on a row per instance whose unused permits go back when the
/// instance's heartbeat lapses.</para>
/// <para>Tables: <c>resilience_cluster_instance</c>, <c>resilience_cluster_vote</c>, <c>resilience_cluster_breaker</c>,
/// <c>resilience_cluster_quota_lease</c>, <c>resilience_cluster_budget</c>, in the connection's default schema.</para>
/// </remarks>
public sealed partial class PostgresClusterStore : ClusterStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly Lock _listenerLock = new();
    private NpgsqlConnection? _listener;
    private Task? _listening;
    private CancellationTokenSource? _listenStop;
    private Action? _changed;
    private bool _schemaReady;
    private long _queries;
    private long _notifications;

    /// <summary>Initializes a new instance of the <see cref="PostgresClusterStore"/> class on its own small pool.</summary>
    /// <param name="connectionString">The database every instance of the cluster shares.</param>
    public PostgresClusterStore(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        // Coordination needs a round trip at a time plus the listener: a small pool of its own, apart from the application's.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 3, ApplicationName = "resilience-cluster" };
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        _ownsDataSource = true;
    }

    /// <summary>Initializes a new instance of the <see cref="PostgresClusterStore"/> class on <paramref name="dataSource"/> (not disposed with the store).</summary>
    /// <param name="dataSource">The data source; the store holds one of its connections to listen.</param>
    public PostgresClusterStore(NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
    }

    internal override long Queries => Volatile.Read(ref _queries);

    internal override long Notifications => Volatile.Read(ref _notifications);

    internal override async ValueTask StartAsync(Action changed, CancellationToken cancellationToken)
    {
        _changed = changed;
        if (!_schemaReady)
        {
            await ExecuteAsync(PostgresClusterSql.Schema, cancellationToken).ConfigureAwait(false);
            _schemaReady = true;
        }

        await EnsureListeningAsync(cancellationToken).ConfigureAwait(false);
    }

    internal override async ValueTask<int> HeartbeatAsync(string instance, TimeSpan ttl, CancellationToken cancellationToken)
    {
        // A listener lost while queries still work (its connection killed) is re-opened here, not left deaf.
        await EnsureListeningAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(PostgresClusterSql.Heartbeat);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = instance });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Ms(ttl) });
        return (int)(await ScalarAsync(command, cancellationToken).ConfigureAwait(false))!;
    }

    internal override async ValueTask LeaveAsync(string instance, CancellationToken cancellationToken)
    {
        using var command = Command(PostgresClusterSql.Leave);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = instance });
        await NonQueryAsync(command, cancellationToken).ConfigureAwait(false);
    }

    internal override async ValueTask VoteAsync(string breaker, string instance, TimeSpan ttl, CancellationToken cancellationToken)
    {
        using var command = Command(PostgresClusterSql.Vote);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = breaker });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = instance });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Ms(ttl) });
        await NonQueryAsync(command, cancellationToken).ConfigureAwait(false);
    }

    internal override async ValueTask<ClusterBreakerRecord[]> ReadBreakersAsync(string[] breakers, CancellationToken cancellationToken)
    {
        using var command = Command(PostgresClusterSql.ReadBreakers);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = breakers });
        var records = new ClusterBreakerRecord[breakers.Length];
        Interlocked.Increment(ref _queries);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            for (var i = 0; await reader.ReadAsync(cancellationToken).ConfigureAwait(false); i++)
            {
                records[i] = new ClusterBreakerRecord(
                    reader.GetString(0),
                    reader.GetInt64(1),
                    reader.GetBoolean(2),
                    TimeSpan.FromMilliseconds(reader.GetInt64(3)),
                    TimeSpan.FromMilliseconds(reader.GetInt64(4)),
                    reader.GetInt32(5),
                    reader.GetInt32(6));
            }
        }

        return records;
    }

    internal override async ValueTask<long> TryOpenAsync(string breaker, long epoch, TimeSpan breakDuration, CancellationToken cancellationToken)
    {
        using var command = Command(PostgresClusterSql.Open);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = breaker });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Ms(breakDuration) });
        return await ScalarAsync(command, cancellationToken).ConfigureAwait(false) is long opened ? opened : 0;
    }

    internal override async ValueTask<bool> TryLeaseProbeAsync(string breaker, long epoch, string instance, TimeSpan ttl, CancellationToken cancellationToken)
    {
        using var command = Command(PostgresClusterSql.LeaseProbe);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = breaker });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = instance });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Ms(ttl) });
        return await ScalarAsync(command, cancellationToken).ConfigureAwait(false) is not null;
    }

    internal override async ValueTask<long> PublishProbeResultAsync(string breaker, long epoch, bool succeeded, TimeSpan nextBreak, CancellationToken cancellationToken)
    {
        using var command = Command(succeeded ? PostgresClusterSql.ProbeSucceeded : PostgresClusterSql.ProbeFailed);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = breaker });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
        if (!succeeded)
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Ms(nextBreak) });
        }

        return await ScalarAsync(command, cancellationToken).ConfigureAwait(false) is long after ? after : 0;
    }

    internal override async ValueTask<QuotaLease> LeaseQuotaAsync(string limiter, long limit, TimeSpan window, string instance, long unused, long want, CancellationToken cancellationToken)
    {
        // The lock and the lease in one batch: one round trip, one implicit transaction.
        using var batch = _dataSource.CreateBatch();
        var locking = new NpgsqlBatchCommand(PostgresClusterSql.LockQuota);
        locking.Parameters.Add(new NpgsqlParameter<string> { TypedValue = limiter });
        var lease = new NpgsqlBatchCommand(PostgresClusterSql.LeaseQuota);
        lease.Parameters.Add(new NpgsqlParameter<string> { TypedValue = limiter });
        lease.Parameters.Add(new NpgsqlParameter<long> { TypedValue = limit });
        lease.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Ms(window) });
        lease.Parameters.Add(new NpgsqlParameter<long> { TypedValue = want });
        lease.Parameters.Add(new NpgsqlParameter<string> { TypedValue = instance });
        lease.Parameters.Add(new NpgsqlParameter<long> { TypedValue = unused });
        batch.BatchCommands.Add(locking);
        batch.BatchCommands.Add(lease);
        Interlocked.Increment(ref _queries);
        var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            if (!await reader.NextResultAsync(cancellationToken).ConfigureAwait(false) || !await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException("The quota lease returned no row.");
            }

            return new QuotaLease(reader.GetInt64(0), reader.GetInt64(1), TimeSpan.FromMilliseconds(reader.GetInt64(2)));
        }
    }

    internal override async ValueTask<long> LeaseBudgetAsync(string budget, long maxUnits, long depositUnits, long wantUnits, CancellationToken cancellationToken)
    {
        using var command = Command(PostgresClusterSql.LeaseBudget);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = budget });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = maxUnits });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = depositUnits });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = wantUnits });
        return await ScalarAsync(command, cancellationToken).ConfigureAwait(false) is long granted
            ? granted
            : throw new InvalidOperationException("The retry budget lease returned no row.");
    }

    internal override async ValueTask ReturnQuotaAsync(string limiter, long window, string instance, long unused, CancellationToken cancellationToken)
    {
        using var command = Command(PostgresClusterSql.ReturnQuota);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = limiter });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = window });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = instance });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = unused });
        await NonQueryAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
    {
        await StopListeningAsync().ConfigureAwait(false);
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static long Ms(TimeSpan value) => Math.Max(1, (long)value.TotalMilliseconds);

    private NpgsqlCommand Command(string sql) => _dataSource.CreateCommand(sql);

    private async Task<object?> ScalarAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queries);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    private async Task NonQueryAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queries);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        using var command = Command(sql);
        await NonQueryAsync(command, cancellationToken).ConfigureAwait(false);
    }
}
