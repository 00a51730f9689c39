using Npgsql;
using Resilience.Chaos.Baselines;
using Resilience.CircuitBreaking;
using Resilience.Npgsql;
using Resilience.Npgsql.Tests.Faults;

namespace Resilience.Chaos.Database.Faults;

/// <summary>
/// The idempotency-keyed table: each row's key is its (writer, seq), the insert is <c>ON CONFLICT DO NOTHING</c>, so a
/// repeated write is harmless and a stack may retry it even when a reply was lost. The plain table (the database fault harness's
/// <see cref="WriteCheck"/>) has no key, so a repeated write is a duplicate row.
/// </summary>
internal static class KeyedTable
{

    public static async Task<string> CreateAsync(NpgsqlDataSource admin)
    {
        var table = "keyed_" + Guid.NewGuid().ToString("N")[..10];
        await using var create = admin.CreateCommand($"CREATE TABLE {table} (writer int NOT NULL, seq int NOT NULL, PRIMARY KEY (writer, seq))");
        await create.ExecuteNonQueryAsync();
        return table;
    }

    public static NpgsqlCommand Command(NpgsqlCommand command, string table, int writer, int sequence)
    {
        command.CommandText = $"INSERT INTO {table} (writer, seq) VALUES ($1, $2) ON CONFLICT (writer, seq) DO NOTHING";
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = writer });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = sequence });
        return command;
    }
}

/// <summary>The usual stack on the keyed table: Npgsql and a Polly retry on <see cref="NpgsqlException.IsTransient"/>.</summary>
internal sealed class KeyedUsualStack(string connectionString, string name = "usual stack, keyed") : IWriteStack
{
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);
    private readonly Polly.ResiliencePipeline _retry = UsualNpgsqlStack.CreateRetry();

    public string Name { get; } = name;

    public Task InsertAsync(string table, int writer, int sequence, CancellationToken cancellationToken) => _retry.ExecuteAsync(
        static async (state, ct) =>
        {
            await using var command = KeyedTable.Command(state.Source.CreateCommand(), state.table, state.writer, state.sequence);
            await command.ExecuteNonQueryAsync(ct);
        },
        (Source: _dataSource, table, writer, sequence),
        cancellationToken).AsTask();

    public bool IsRejectedWithoutTrying(Exception failure) => false;

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}

/// <summary>Ours on the keyed table: the insert is marked idempotent, so a write whose reply was lost is retried safely.</summary>
/// <remarks>
/// The data source is built as <c>AddNpgsqlResilience</c> builds it (the limits are start-up options of each connection), so
/// an idempotent insert is one round trip, as the usual stack's is. Without <c>UseQueryTimeouts()</c> every call ran in a
/// transaction that sets the limits (three round trips): on a loaded CI machine that saturated the pool in the open loop.
/// </remarks>
internal sealed class KeyedResilientStack : IWriteStack
{
    private readonly NpgsqlDataSource _dataSource;

    public KeyedResilientStack(string connectionString, string name = "ours, keyed")
    {
        _dataSource = new NpgsqlDataSourceBuilder(connectionString).UseQueryTimeouts().Build();
        Database = new ResilientDataSource(_dataSource);
        Name = name;
    }

    public string Name { get; }

    public ResilientDataSource Database { get; }

    public Task InsertAsync(string table, int writer, int sequence, CancellationToken cancellationToken) =>
        Database.ExecuteAsync(
            static async (command, row, ct) => await KeyedTable.Command(command, row.table, row.writer, row.sequence).ExecuteNonQueryAsync(ct),
            (table, writer, sequence),
            DbCallOptions.Idempotent,
            cancellationToken).AsTask();

    public bool IsRejectedWithoutTrying(Exception failure) => failure.InnerException is BrokenCircuitException;

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
