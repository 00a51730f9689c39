using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Failures;
using Resilience.Npgsql.Tests.Infrastructure;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Execution;

/// <summary>Statements that cannot run in a transaction, and callers with a connection or transaction of their own.</summary>
[Collection(PostgresTests.Name)]
public sealed class TransactionModeTests(PostgresFixture postgres)
{
    private static readonly DbCallOptions NoTransaction = new() { WithoutTransaction = true };

    private async Task<NpgsqlDataSource> CreateTableAsync(string table)
    {
        var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var create = pool.CreateCommand($"CREATE TABLE {table} (id int PRIMARY KEY, v text)");
        await create.ExecuteNonQueryAsync();
        return pool;
    }

    private static ValueTask<int> Run(NpgsqlCommand command, string sql, bool async, CancellationToken ct)
    {
        command.CommandText = sql;
        return command.ExecuteNonQuery(async, ct);
    }

    private static ValueTask<int> RunAsync(NpgsqlCommand command, string sql, CancellationToken ct)
    {
        command.CommandText = sql;
        return new ValueTask<int>(command.ExecuteNonQueryAsync(ct));
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_CreateIndexConcurrently_FailsInTransactionAndRunsWithoutOne(bool async)
    {
        var table = TestTables.Unique("cic");
        await using var pool = await CreateTableAsync(table);
        var db = new ResilientDataSource(pool);
        var ddl = $"CREATE INDEX CONCURRENTLY {table}_v ON {table} (v)";

        var inTransaction = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(async, Run, ddl));
        await db.Execute(async, Run, ddl, NoTransaction);
        await using var check = pool.CreateCommand($"SELECT count(*) FROM pg_indexes WHERE indexname = '{table}_v'");

        Assert.Equal("25001", inTransaction.SqlState);
        Assert.Equal(1L, (long)(await check.ExecuteScalarAsync())!);
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_WithoutTransactionLimitsDiffer_StoppedOnServerAndNotLeaked(bool async)
    {
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString + ";Maximum Pool Size=1;No Reset On Close=true");
        var db = new ResilientDataSource(pool);
        var tight = NoTransaction with { IsIdempotent = true, Timeouts = new QueryTimeoutOptions { StatementTimeout = TimeSpan.FromMilliseconds(200) } };

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(async, Run, "SELECT pg_sleep(3)", tight));
        await using var connection = await pool.OpenConnectionAsync();
        await using var show = new NpgsqlCommand("SHOW statement_timeout", connection);

        Assert.Equal("57014", error.SqlState);
        Assert.Equal("0", (string)(await show.ExecuteScalarAsync())!); // the session limit was reset, not left on the pooled connection
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_WithoutTransactionLostReply_NonIdempotentUnknownOutcomeNotRetried(bool async)
    {
        var table = TestTables.Unique("autocommit");
        await using var pool = await CreateTableAsync(table);
        await using var proxy = new LostReplyProxy(postgres.ConnectionString);
        await using var proxied = NpgsqlDataSource.Create(proxy.ConnectionString);
        var db = new ResilientDataSource(proxied);

        proxy.LoseNextReplyTo("/*lose*/");
        var error = await Assert.ThrowsAsync<DatabaseException>(async () =>
            await db.Execute(async, Run, $"/*lose*/ INSERT INTO {table} VALUES (1, 'x')", NoTransaction));
        await using var count = pool.CreateCommand($"SELECT count(*) FROM {table}");

        Assert.Equal(FailureKind.UnknownOutcome, error.FailureKind);
        Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!); // it did commit: a retry would have failed or duplicated
        Assert.Equal(0L, db.Pipeline.RetryStatistics!.GetSnapshot().TotalRetries);
    }

    [Fact]
    public async Task InTransactionAsync_WithoutTransaction_Rejected()
    {
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var db = new ResilientDataSource(pool);

        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await db.InTransactionAsync(RunAsync, "SELECT 1", System.Data.IsolationLevel.ReadCommitted, NoTransaction));
    }

    [Fact]
    public async Task ExecuteOnAsync_CallersTransaction_JoinsItNeverRetriesAndCallerDecides()
    {
        var table = TestTables.Unique("callers");
        await using var pool = await CreateTableAsync(table);
        var db = new ResilientDataSource(pool);
        await using var connection = await pool.OpenConnectionAsync();
        var runs = new int[1];

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await db.ExecuteOnAsync(transaction, RunAsync, $"INSERT INTO {table} VALUES (1, 'a')", CancellationToken.None);
            var conflict = await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteOnAsync(transaction, (command, s, ct) =>
            {
                Interlocked.Increment(ref runs[0]);
                return RunAsync(command, s, ct);
            }, $"INSERT INTO {table} VALUES (1, 'b')", CancellationToken.None));
            Assert.Equal(FailureKind.Conflict, conflict.FailureKind);
            await transaction.RollbackAsync();
        }

        await using var count = pool.CreateCommand($"SELECT count(*) FROM {table}");
        Assert.Equal(1, runs[0]);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!); // the caller rolled back both
    }

    [Fact]
    public async Task ExecuteOnAsync_CircuitOpen_RejectedWithoutTouchingTheConnection()
    {
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var db = new ResilientDataSource(pool);
        db.Pipeline.CircuitBreaker!.Isolate();
        await using var connection = await pool.OpenConnectionAsync();
        var runs = new int[1];

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteOnAsync(connection, (command, s, ct) =>
        {
            Interlocked.Increment(ref runs[0]);
            return RunAsync(command, s, ct);
        }, "SELECT 1", CancellationToken.None));

        Assert.Equal(FailureKind.Unavailable, error.FailureKind);
        Assert.IsType<BrokenCircuitException>(error.InnerException);
        Assert.Equal(0, runs[0]);
    }
}
