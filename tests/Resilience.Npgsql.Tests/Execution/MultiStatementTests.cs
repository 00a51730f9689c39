using Npgsql;
using Resilience.Failures;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Execution;

/// <summary>Several statements in one call: a batch in the call's transaction without parameters, refused at once with them.</summary>
[Collection(PostgresTests.Name)]
public sealed class MultiStatementTests(PostgresFixture postgres)
{
    private static async Task<long> CountAsync(NpgsqlDataSource pool, string sql)
    {
        await using var command = pool.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExecuteNonQueryAsync_DropThenCreate_RunsAsOneBatch(bool perCallLimits)
    {
        var table = TestTables.Unique("multi");
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var db = new ResilientDataSource(pool);
        var options = perCallLimits ? new DbCallOptions { Timeouts = new QueryTimeoutOptions { StatementTimeout = TimeSpan.FromSeconds(3) } } : default;
        await db.ExecuteNonQueryAsync($"CREATE TABLE {table} (old int)", []);

        var rows = await db.ExecuteNonQueryAsync(
            $"DROP TABLE {table}; CREATE TABLE {table} (id int PRIMARY KEY, note text); -- a comment; with a semicolon\nINSERT INTO {table} VALUES (1, 'a;b'), (2, $$c;d$$)",
            [],
            options);

        Assert.Equal(2, rows);
        Assert.Equal(2L, await CountAsync(pool, $"SELECT count(*) FROM {table} WHERE note LIKE '%;%'"));
    }

    [Fact]
    public async Task ExecuteScalarAsync_SeveralStatements_FirstRowReturningStatementsValue()
    {
        var table = TestTables.Unique("multi_scalar");
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var db = new ResilientDataSource(pool);

        var id = await db.ExecuteScalarAsync<int>($"CREATE TABLE {table} (id int); INSERT INTO {table} VALUES (7) RETURNING id; SELECT 42", []);

        Assert.Equal(7, id);
    }

    [Fact]
    public async Task ExecuteNonQueryAsync_SeveralStatementsOneFails_NoneTakesEffect()
    {
        var table = TestTables.Unique("multi_atomic");
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var db = new ResilientDataSource(pool);
        await db.ExecuteNonQueryAsync($"CREATE TABLE {table} (id int PRIMARY KEY)", []);

        var error = await Assert.ThrowsAsync<DatabaseException>(async () =>
            await db.ExecuteNonQueryAsync($"INSERT INTO {table} VALUES (1); INSERT INTO {table} VALUES (1)", []));

        Assert.Equal(FailureKind.Conflict, error.FailureKind);
        Assert.Equal(0L, await CountAsync(pool, $"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task ExecuteNonQueryAsync_SeveralStatementsOneSlow_StoppedByStatementTimeout()
    {
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var db = new ResilientDataSource(pool);
        var tight = new DbCallOptions { Timeouts = new QueryTimeoutOptions { StatementTimeout = TimeSpan.FromMilliseconds(200) } };

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteNonQueryAsync("SELECT 1; SELECT pg_sleep(5)", [], tight));

        Assert.Equal(FailureKind.Timeout, error.FailureKind);
        Assert.Equal("57014", error.SqlState);
    }

    [Fact]
    public async Task ExecuteNonQueryAsync_SeveralStatementsWithParameters_RefusedBeforeSending()
    {
        var table = TestTables.Unique("multi_params");
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var db = new ResilientDataSource(pool);
        await db.ExecuteNonQueryAsync($"CREATE TABLE {table} (id int)", []);

        // Thrown by the call itself, before any task exists or anything is sent.
#pragma warning disable CA2012
        var error = Assert.Throws<ArgumentException>(() =>
        {
            _ = db.ExecuteNonQueryAsync($"INSERT INTO {table} VALUES ($1); INSERT INTO {table} VALUES ($1)", [1]);
        });
#pragma warning restore CA2012
        var single = await db.ExecuteNonQueryAsync($"INSERT INTO {table} VALUES ($1);", [1]);

        Assert.Equal("sql", error.ParamName);
        Assert.Contains("binds parameters to a single statement", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, single); // a trailing semicolon is one statement
        Assert.Equal(1L, await CountAsync(pool, $"SELECT count(*) FROM {table}"));
    }

    [Fact]
    public async Task ExecuteAsync_OwnCommandWithSeveralStatementsAndParameters_SaysWhyNotThatItIsADefect()
    {
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var db = new ResilientDataSource(pool);

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteAsync(static async (command, _, ct) =>
        {
            command.CommandText = "SELECT $1; SELECT $1";
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = 1 });
            return await command.ExecuteNonQueryAsync(ct);
        }, 0));

        Assert.Equal("42601", error.SqlState);
        Assert.Contains("binds parameters to a single statement", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("defect", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT 1", false)]
    [InlineData("SELECT 1;", false)]
    [InlineData("SELECT 1; ; -- done", false)]
    [InlineData("SELECT 'a;b', \"c;d\", $$e;f$$, $tag$g;$$;h$tag$ /* i; /* nested; */ j; */", false)]
    [InlineData("SELECT E'it\\'s;' -- x; y\n", false)]
    [InlineData("SELECT $1; ", false)]
    [InlineData("SELECT 1; SELECT 2", true)]
    [InlineData("DROP TABLE t;\nCREATE TABLE t (id int)", true)]
    [InlineData("SELECT 'a'';'; SELECT 2", true)]
    [InlineData("SELECT $1;SELECT $2", true)]
    public void HasSeveralStatements_SemicolonsOutsideLiteralsAndComments(string sql, bool expected) =>
        Assert.Equal(expected, SqlText.HasSeveralStatements(sql));
}
