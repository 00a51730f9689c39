using ContentService.Events;
using ContentService.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ContentService.Tests.Infrastructure;

/// <summary>A fresh database, the fake providers on loopback, and content-service instances on both (fast retries, short polls).</summary>
internal sealed class ServiceHarness : IAsyncDisposable
{
    private readonly List<ContentServiceFactory> _instances = [];

    private ServiceHarness(string connectionString, FakeProvidersServer providers)
    {
        ConnectionString = connectionString;
        Providers = providers;
    }

    public string ConnectionString { get; }

    public FakeProvidersServer Providers { get; }

    public static async Task<ServiceHarness> StartAsync(string serverConnectionString) =>
        new(await TestDatabase.CreateAsync(serverConnectionString), FakeProvidersServer.Start());

    /// <summary>Starts one more instance of the service on the same database and providers.</summary>
    public ContentServiceFactory AddInstance(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var merged = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Executor:PollInterval"] = "00:00:00.100",
            ["Executor:RetryDelay"] = "00:00:00",
            ["Resilience:Http:llm:BaseDelay"] = "00:00:00.010",
            ["Resilience:Http:llm:MaxDelay"] = "00:00:00.050",
            ["Resilience:Http:cms:BaseDelay"] = "00:00:00.010",
            ["Resilience:Http:cms:MaxDelay"] = "00:00:00.050",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        var instance = new ContentServiceFactory(ConnectionString, Providers.BaseAddress, merged) { ConfigureTestServices = services };
        _ = instance.Services;
        _instances.Add(instance);
        return instance;
    }

    /// <summary>Waits for a task change observed by any instance (or already in the database) that satisfies <paramref name="until"/>.</summary>
    public async Task<TaskResponse> WaitForAsync(Guid id, Func<TaskResponse, bool> until, TimeSpan? timeout = null)
    {
        var subscriptions = _instances.Select(i => i.Services.GetRequiredService<TaskEventHub>().Subscribe(id)).ToList();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        TaskResponse? last = null;
        try
        {
            last = await ReadAsync(id);
            if (last is not null && until(last))
            {
                return last;
            }

            var reads = subscriptions.Select(s => s.Reader.ReadAsync(limit.Token).AsTask()).ToList();
            while (true)
            {
                var done = await Task.WhenAny(reads);
                var index = reads.IndexOf(done);
                _ = await done;
                last = await ReadAsync(id);
                if (last is not null && until(last))
                {
                    return last;
                }

                reads[index] = subscriptions[index].Reader.ReadAsync(limit.Token).AsTask();
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            throw new Xunit.Sdk.XunitException($"Task {id} did not reach the expected state in time; last seen: {last}");
        }
        finally
        {
            subscriptions.ForEach(s => s.Dispose());
        }
    }

    public Task<TaskResponse> WaitForStatusAsync(Guid id, string status, TimeSpan? timeout = null) => WaitForAsync(id, t => t.Status == status, timeout);

    public async Task<TaskResponse?> ReadAsync(Guid id)
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        await using var command = dataSource.CreateCommand($"SELECT {TaskRepository.Columns} FROM content_tasks WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return await TaskRepository.ReadOneAsync(command, CancellationToken.None);
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<List<(string Stage, string Provider, int Tokens, decimal CostUsd)>> CostsAsync(Guid taskId)
    {
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT stage, provider, tokens, cost_usd FROM task_costs WHERE task_id = $1 ORDER BY id");
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = taskId });
        await using var reader = await command.ExecuteReaderAsync();
        var costs = new List<(string, string, int, decimal)>();
        while (await reader.ReadAsync())
        {
            costs.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetDecimal(3)));
        }

        return costs;
    }

    /// <summary>Creates a task through the API of <paramref name="instance"/> and returns its id.</summary>
    public static async Task<Guid> CreateTaskAsync(ContentServiceFactory instance, object body)
    {
        using var client = instance.CreateWriter();
        using var response = await Json.PostAsync(client, "/api/tasks", body);
        return (await Json.ReadAsync(response)).GetProperty("id").GetGuid();
    }

    /// <summary>Stops one instance (graceful host shutdown).</summary>
    public async Task StopAsync(ContentServiceFactory instance)
    {
        _instances.Remove(instance);
        await instance.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        await Providers.DisposeAsync();
    }
}
