using Npgsql;

namespace ContentService.Tests.Infrastructure;

/// <summary>Holds an exclusive lock on a table from another connection, so the service's queries on it wait.</summary>
internal sealed class TableLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private TableLock(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    public static async Task<TableLock> TakeAsync(string connectionString, string table)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand($"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE", connection, transaction))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new TableLock(connection, transaction);
    }

    /// <summary>Returns once a query of this database waits for a lock.</summary>
    public static async Task WaitForWaiterAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        while (true)
        {
            await using var command = dataSource.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
            if ((long)(await command.ExecuteScalarAsync())! > 0)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.RollbackAsync();
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
