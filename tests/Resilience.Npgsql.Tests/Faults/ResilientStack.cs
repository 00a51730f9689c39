using Npgsql;
using Resilience.CircuitBreaking;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>Writes through <see cref="ResilientDataSource"/>: each insert a call not marked idempotent, as a plain INSERT is.</summary>
/// <remarks>The data source is built as <c>AddNpgsqlResilience</c> builds it: the default limits are start-up options of each connection.</remarks>
internal sealed class ResilientStack : IWriteStack
{
    private readonly NpgsqlDataSource _dataSource;

    public ResilientStack(string connectionString, NpgsqlResilienceOptions? options = null, string name = "ours")
    {
        _dataSource = new NpgsqlDataSourceBuilder(connectionString).UseQueryTimeouts(options?.QueryTimeouts).Build();
        Database = new ResilientDataSource(_dataSource, options);
        Name = name;
    }

    public string Name { get; }

    public ResilientDataSource Database { get; }

    public Task InsertAsync(string table, int writer, int sequence, CancellationToken cancellationToken) =>
        Database.ExecuteAsync(static async (command, row, ct) =>
        {
            command.CommandText = $"INSERT INTO {row.table} (writer, seq) VALUES ($1, $2)";
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = row.writer });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = row.sequence });
            return await command.ExecuteNonQueryAsync(ct);
        }, (table, writer, sequence), default, cancellationToken).AsTask();

    public bool IsRejectedWithoutTrying(Exception failure) => failure.InnerException is BrokenCircuitException;

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
