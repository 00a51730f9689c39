using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Cluster;
using Resilience.Npgsql.Cluster;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>A database of its own for one test's cluster (the live-instance count is the database's), dropped afterwards.</summary>
internal sealed class ClusterDatabase : IAsyncDisposable
{
    private readonly string _adminConnectionString;
    private readonly string _name;
    private readonly List<ClusterInstance> _instances = [];

    private ClusterDatabase(string adminConnectionString, string name, string connectionString)
    {
        _adminConnectionString = adminConnectionString;
        _name = name;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    public static async Task<ClusterDatabase> CreateAsync(string serverConnectionString)
    {
        var name = "cluster_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(serverConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name };
        return new ClusterDatabase(serverConnectionString, name, builder.ConnectionString);
    }

    public static ClusterOptions FastOptions(string id) => new()
    {
        InstanceId = id,
        SyncInterval = TimeSpan.FromMilliseconds(50),
        LeaseTime = TimeSpan.FromMilliseconds(400),
        VoteWindow = TimeSpan.FromSeconds(10),
        StoreTimeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>An instance: its own store (own connections), coordinator and a shared breaker named <paramref name="breaker"/>.</summary>
    public ClusterInstance Add(string id, string breaker = "provider", TimeSpan? breakDuration = null, string? connectionString = null)
    {
        var instance = new ClusterInstance(connectionString ?? ConnectionString, id, breaker, breakDuration ?? TimeSpan.FromSeconds(30));
        _instances.Add(instance);
        return instance;
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_adminConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", admin);
        try
        {
            await drop.ExecuteNonQueryAsync();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            // FORCE must terminate every session, an autovacuum worker's included, and only a superuser may (failed in CI,
            // and 5 immediate retries did not outlast the worker). A plain DROP stops autovacuum workers itself and waits
            // for them; the test's own sessions are closed by now.
            await using var plain = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name}", admin);
            await plain.ExecuteNonQueryAsync();
        }
    }
}

/// <summary>One "instance" of the service: a store on its own connections, a coordinator, one cluster-wide breaker.</summary>
internal sealed class ClusterInstance : IAsyncDisposable
{
    private readonly TaskCompletionSource<CircuitStateChange> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<CircuitStateChange> _clusterOpened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<CircuitStateChange> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _killed;

    public ClusterInstance(string connectionString, string id, string breaker, TimeSpan breakDuration)
    {
        Store = new PostgresClusterStore(connectionString);
        Coordinator = new ClusterCoordinator(Store, ClusterDatabase.FastOptions(id));
        Breaker = new CircuitBreaker(breaker, new CircuitBreakerOptions
        {
            FailureThreshold = 3,
            BreakDuration = breakDuration,
            ProbeTimeout = TimeSpan.FromSeconds(5),
            OnStateChanged = change =>
            {
                if (change.To == CircuitState.Open)
                {
                    _opened.TrySetResult(change);
                    if (change.Reason == CircuitTransitionReason.Cluster)
                    {
                        _clusterOpened.TrySetResult(change);
                    }
                }
                else if (change.To == CircuitState.Closed && change.From != CircuitState.Closed)
                {
                    _closed.TrySetResult(change);
                }
            },
        });
        Coordinator.Share(Breaker);
    }

    public PostgresClusterStore Store { get; }

    public ClusterCoordinator Coordinator { get; }

    public CircuitBreaker Breaker { get; }

    public Task<CircuitStateChange> Opened => _opened.Task;

    public Task<CircuitStateChange> Closed => _closed.Task;

    /// <summary>Gets the first opening decided by the cluster (a quorum or the cluster's probe), not by this instance's counts.</summary>
    public Task<CircuitStateChange> ClusterOpened => _clusterOpened.Task;

    public Task RoundAsync() => Coordinator.RunRoundAsync(CancellationToken.None);

    /// <summary>Fails calls until the local breaker opens on its own counts.</summary>
    public void Trip()
    {
        while (Breaker.TryAcquire(out var permit))
        {
            permit.Failed();
        }

        Assert.Equal(CircuitState.Open, Breaker.State);
    }

    /// <summary>As kill -9: the instance stops without leaving (no quota returned, no votes withdrawn).</summary>
    public void Kill() => _killed = true;

    /// <summary>As kill -9 now: the coordinator is abandoned (never disposed) and its store's connections closed.</summary>
    public async Task KillAsync()
    {
        _killed = true;
        await Store.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_killed)
        {
            await Store.DisposeAsync(); // a second time after KillAsync: nothing left to close
        }
        else
        {
            await Coordinator.DisposeAsync();
        }
    }
}
