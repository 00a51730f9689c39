using Npgsql;
using Resilience.Failures;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Classification;

[Collection(PostgresTests.Name)]
public sealed class RealServerErrorClassificationTests(PostgresFixture postgres)
{
    private static async Task ExecAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<NpgsqlDataSource> CreateSchemaAsync(string table)
    {
        var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await ExecAsync(connection, $"""
            DROP TABLE IF EXISTS {table}_child; DROP TABLE IF EXISTS {table};
            CREATE TABLE {table} (id int PRIMARY KEY, name text NOT NULL, qty int CHECK (qty >= 0));
            CREATE TABLE {table}_child (id int PRIMARY KEY, parent int REFERENCES {table}(id),
                span int4range, EXCLUDE USING gist (span WITH &&));
            INSERT INTO {table} VALUES (1, 'a', 1), (2, 'b', 2);
            INSERT INTO {table}_child VALUES (10, NULL, '[1,5)');
            """);
        return dataSource;
    }

    [Theory]
    [InlineData("INSERT INTO {0} VALUES (1, 'dup', 1)", "23505", FailureKind.Conflict)]
    [InlineData("INSERT INTO {0}_child VALUES (1, 99)", "23503", FailureKind.Conflict)]
    [InlineData("INSERT INTO {0}_child (id, span) VALUES (11, '[3,8)')", "23P01", FailureKind.Conflict)]
    [InlineData("INSERT INTO {0} VALUES (3, NULL, 1)", "23502", FailureKind.InvalidInput)]
    [InlineData("INSERT INTO {0} VALUES (3, 'c', -1)", "23514", FailureKind.InvalidInput)]
    [InlineData("SELECT * FROM {0} WHERE id = 'abc'::int", "22P02", FailureKind.InvalidInput)]
    [InlineData("SELECT no_such_column FROM {0}", "42703", FailureKind.Permanent)]
    public async Task Classify_ConstraintAndInputErrors_MapToKinds(string sqlFormat, string sqlState, FailureKind expected)
    {
        var table = "cls_" + sqlState.ToLowerInvariant();
        await using var dataSource = await CreateSchemaAsync(table);
        await using var command = dataSource.CreateCommand(string.Format(System.Globalization.CultureInfo.InvariantCulture, sqlFormat, table));

        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());

        Assert.Equal(sqlState, error.SqlState);
        Assert.Equal(expected, PostgresFailureClassifier.Classify(error));
        Assert.False(PostgresFailureClassifier.FailedBeforeSend(error));
    }

    [Fact]
    public async Task Classify_DeadlockBetweenTwoConnections_IsTransient()
    {
        await using var dataSource = await CreateSchemaAsync("cls_deadlock");
        await using var first = await dataSource.OpenConnectionAsync();
        await using var second = await dataSource.OpenConnectionAsync();
        await using var tx1 = await first.BeginTransactionAsync();
        await using var tx2 = await second.BeginTransactionAsync();
        await ExecAsync(first, "UPDATE cls_deadlock SET qty = 10 WHERE id = 1");
        await ExecAsync(second, "UPDATE cls_deadlock SET qty = 20 WHERE id = 2");

        // Each now waits for the other's row: PostgreSQL aborts one of them with 40P01.
        var a = ExecAsync(first, "UPDATE cls_deadlock SET qty = 11 WHERE id = 2");
        var b = ExecAsync(second, "UPDATE cls_deadlock SET qty = 21 WHERE id = 1");
        var results = await Task.WhenAll(Capture(a), Capture(b));

        var error = Assert.Single(results, e => e is not null);
        var pg = Assert.IsType<PostgresException>(error);
        Assert.Equal("40P01", pg.SqlState);
        Assert.Equal(FailureKind.Transient, PostgresFailureClassifier.Classify(pg));
    }

    [Fact]
    public async Task Classify_SerializationFailure_IsTransient()
    {
        await using var dataSource = await CreateSchemaAsync("cls_serial");
        await using var first = await dataSource.OpenConnectionAsync();
        await using var second = await dataSource.OpenConnectionAsync();
        await using var tx1 = await first.BeginTransactionAsync(System.Data.IsolationLevel.Serializable);
        await using var tx2 = await second.BeginTransactionAsync(System.Data.IsolationLevel.Serializable);
        await ExecAsync(first, "SELECT sum(qty) FROM cls_serial");
        await ExecAsync(second, "SELECT sum(qty) FROM cls_serial");
        await ExecAsync(first, "INSERT INTO cls_serial VALUES (10, 'x', 1)");
        await ExecAsync(second, "INSERT INTO cls_serial VALUES (11, 'y', 1)");
        await tx1.CommitAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(() => tx2.CommitAsync());

        Assert.Equal("40001", error.SqlState);
        Assert.Equal(FailureKind.Transient, PostgresFailureClassifier.Classify(error));
    }

    [Fact]
    public async Task Classify_LockTimeout_IsTransient()
    {
        await using var dataSource = await CreateSchemaAsync("cls_lock");
        await using var holder = await dataSource.OpenConnectionAsync();
        await using var waiter = await dataSource.OpenConnectionAsync();
        await using var tx = await holder.BeginTransactionAsync();
        await ExecAsync(holder, "UPDATE cls_lock SET qty = 5 WHERE id = 1");

        var error = await Assert.ThrowsAsync<PostgresException>(() => ExecAsync(waiter, "SET lock_timeout = 100; UPDATE cls_lock SET qty = 6 WHERE id = 1"));

        Assert.Equal("55P03", error.SqlState);
        Assert.Equal(FailureKind.Transient, PostgresFailureClassifier.Classify(error));
        Assert.Contains("within the lock timeout", PostgresErrorTranslator.Translate(error).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classify_TerminatedBackend_IsUnavailable()
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var victim = await dataSource.OpenConnectionAsync();
        await using var killer = await dataSource.OpenConnectionAsync();
        await using var pidCommand = new NpgsqlCommand("SELECT pg_backend_pid()", victim);
        var pid = (int)(await pidCommand.ExecuteScalarAsync())!;
        await using (var kill = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", killer))
        {
            kill.Parameters.AddWithValue("pid", pid);
            await kill.ExecuteScalarAsync();
        }

        await using var next = new NpgsqlCommand("SELECT 1", victim);
        var error = await Assert.ThrowsAsync<PostgresException>(() => next.ExecuteScalarAsync());

        Assert.Equal("57P01", error.SqlState);
        Assert.Equal(FailureKind.Unavailable, PostgresFailureClassifier.Classify(error));
    }

    [Fact]
    public async Task Classify_PoolExhausted_IsUnavailableAndBeforeSend()
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString + ";Maximum Pool Size=1;Timeout=1");
        await using var held = await dataSource.OpenConnectionAsync();

        var error = await Assert.ThrowsAsync<NpgsqlException>(async () => await dataSource.OpenConnectionAsync());

        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.True(PostgresFailureClassifier.IsPoolExhausted(error));
        Assert.Equal(FailureKind.Unavailable, PostgresFailureClassifier.Classify(error));
        Assert.True(PostgresFailureClassifier.FailedBeforeSend(error));
        var translated = PostgresErrorTranslator.Translate(error);
        Assert.Equal(ErrorIds.DatabaseUnavailable, translated.ErrorId);
        Assert.True(translated.FailedBeforeSend);
    }

    [Fact]
    public async Task Classify_ClientCommandTimeout_IsTimeoutNotPoolExhaustion()
    {
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString + ";Maximum Pool Size=1;Timeout=1");
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("SELECT pg_sleep(10)", connection) { CommandTimeout = 1 };

        var error = await Assert.ThrowsAsync<NpgsqlException>(() => command.ExecuteNonQueryAsync());

        // Same shape as pool exhaustion (NpgsqlException over TimeoutException), different meaning.
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.False(PostgresFailureClassifier.IsPoolExhausted(error));
        Assert.Equal(FailureKind.Timeout, PostgresFailureClassifier.Classify(error));
        Assert.False(PostgresFailureClassifier.FailedBeforeSend(error));
        Assert.Equal(ErrorIds.Timeout, PostgresErrorTranslator.Translate(error).ErrorId);
    }

    [Fact]
    public async Task Classify_ConnectionRefused_IsUnavailableWithDatabaseUnavailableIdAndBeforeSend()
    {
        await using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Password=y;Timeout=2");

        var error = await Assert.ThrowsAsync<NpgsqlException>(async () => await dataSource.OpenConnectionAsync());
        var translated = PostgresErrorTranslator.Translate(error);

        // Unavailable, so the README's "catch Unavailable → 503" example catches a database that refuses connections.
        Assert.Equal(FailureKind.Unavailable, PostgresFailureClassifier.Classify(error));
        Assert.Equal(FailureKind.Unavailable, translated.FailureKind);
        Assert.Equal(ErrorIds.DatabaseUnavailable, translated.ErrorId);
        Assert.True(PostgresFailureClassifier.FailedBeforeSend(error));
    }

    [Theory]
    [InlineData("25P03", FailureKind.Unavailable)]
    [InlineData("25P04", FailureKind.Unavailable)]
    [InlineData("57P05", FailureKind.Unavailable)]
    [InlineData("25006", FailureKind.Unavailable)]
    [InlineData("55P03", FailureKind.Transient)]
    [InlineData("28000", FailureKind.Configuration)]
    [InlineData("42601", FailureKind.Permanent)]
    [InlineData("22001", FailureKind.InvalidInput)]
    [InlineData("23502", FailureKind.InvalidInput)]
    [InlineData("57014", FailureKind.Timeout)]
    public void ClassifySqlState_IssueTable(string sqlState, FailureKind expected) =>
        Assert.Equal(expected, PostgresFailureClassifier.ClassifySqlState(sqlState));

    private static async Task<Exception?> Capture(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
