using Npgsql;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>
/// The baseline applications usually run: plain Npgsql with autocommit inserts, retried on
/// <see cref="NpgsqlException.IsTransient"/> up to 3 times with 100, 200, 400 ms of backoff. Hand-written, no library.
/// </summary>
internal sealed class UsualStack(string connectionString, string name = "usual stack") : IWriteStack
{
    private const int MaxRetries = 3;
    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(100);

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public string Name { get; } = name;

    public async Task InsertAsync(string table, int writer, int sequence, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var command = _dataSource.CreateCommand($"INSERT INTO {table} (writer, seq) VALUES ($1, $2)");
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = writer });
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = sequence });
                await command.ExecuteNonQueryAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException ex) when (ex.IsTransient && attempt < MaxRetries)
            {
                // The backoff is the usual stack's own behaviour, not a test waiting for state.
                await Task.Delay(BaseDelay * (1 << attempt), cancellationToken);
            }
        }
    }

    public bool IsRejectedWithoutTrying(Exception failure) => false;

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
