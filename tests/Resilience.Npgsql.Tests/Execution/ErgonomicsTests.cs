using Npgsql;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Execution;

/// <summary>What a new user writes first: no state, no token, a four-value insert without a tuple.</summary>
[Collection(PostgresTests.Name)]
public sealed class ErgonomicsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task ExecuteAsync_OptionsWithoutStateAndNoToken_Runs()
    {
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var db = new ResilientDataSource(pool);

        var one = await db.ExecuteAsync(static async (command, ct) =>
        {
            command.CommandText = "SELECT 1";
            return (int)(await command.ExecuteScalarAsync(ct))!;
        }, DbCallOptions.Idempotent);
        var two = await db.ExecuteAsync(static async (command, ct) =>
        {
            command.CommandText = "SELECT 2";
            return (int)(await command.ExecuteScalarAsync(ct))!;
        });

        Assert.Equal(1, one);
        Assert.Equal(2, two);
    }

    [Fact]
    public async Task ExecuteNonQueryAsync_FourPositionalValuesIncludingNull_InsertedAndReadBack()
    {
        var table = "ergo_" + Guid.NewGuid().ToString("N")[..10];
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var db = new ResilientDataSource(pool);
        await db.ExecuteNonQueryAsync($"CREATE TABLE {table} (id uuid PRIMARY KEY, title text NOT NULL, status text, cost numeric)", []);
        var id = Guid.NewGuid();

        var inserted = await db.ExecuteNonQueryAsync($"INSERT INTO {table} (id, title, status, cost) VALUES ($1, $2, $3, $4)", [id, "first", null, 12.5m]);
        var title = await db.ExecuteScalarAsync<string>($"SELECT title FROM {table} WHERE id = $1 AND status IS NULL AND cost = $2", [id, 12.5m], DbCallOptions.Idempotent);
        var missing = await db.ExecuteScalarAsync<string>($"SELECT title FROM {table} WHERE id = $1", [Guid.NewGuid()], DbCallOptions.Idempotent);

        Assert.Equal(1, inserted);
        Assert.Equal("first", title);
        Assert.Null(missing);
    }
}
