using Npgsql;
using Resilience.Npgsql.Tests.Infrastructure;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Execution;

/// <summary>How many network round trips a call costs, counted on the wire against a bare Npgsql statement.</summary>
[Collection(PostgresTests.Name)]
public sealed class RoundTripTests(PostgresFixture postgres)
{
    private async Task<string> CreateTableAsync()
    {
        var table = "round_trips_" + Guid.NewGuid().ToString("N")[..10];
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var create = pool.CreateCommand($"CREATE TABLE {table} (id bigserial PRIMARY KEY, payload text NOT NULL)");
        await create.ExecuteNonQueryAsync();
        return table;
    }

    /// <summary>Counts the round trips of <paramref name="call"/> on a warm pooled connection (its start-up is not counted).</summary>
    private static async Task<int> CountAsync(RoundTripProxy proxy, NpgsqlDataSource pool, Func<Task> call)
    {
        await using (var warm = pool.CreateCommand("SELECT 1"))
        {
            await warm.ExecuteScalarAsync();
        }

        await call(); // the first call of a shape may prepare types; count the second
        proxy.Reset();
        await call();
        return proxy.RoundTrips;
    }

    [Fact]
    public async Task ExecuteNonQueryAsync_NotIdempotentWrite_OneRoundTripMoreThanBareInsert()
    {
        var table = await CreateTableAsync();
        await using var proxy = new RoundTripProxy(postgres.ConnectionString);
        await using var pool = new NpgsqlDataSourceBuilder(proxy.ConnectionString).UseQueryTimeouts().Build();
        var db = new ResilientDataSource(pool);
        var insert = $"INSERT INTO {table} (payload) VALUES ($1)";

        var bare = await CountAsync(proxy, pool, async () =>
        {
            await using var command = pool.CreateCommand(insert);
            command.Parameters.Add(new NpgsqlParameter { Value = "bare" });
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        });
        var ours = await CountAsync(proxy, pool, async () => Assert.Equal(1, await db.ExecuteNonQueryAsync(insert, ["ours"])));
        var oursIdempotent = await CountAsync(proxy, pool, async () =>
            Assert.Equal(1, await db.ExecuteNonQueryAsync(insert, ["idempotent"], DbCallOptions.Idempotent)));

        Assert.Equal(1, bare);
        Assert.Equal(bare + 1, ours); // BEGIN + INSERT + pg_current_xact_id() in one, then COMMIT
        Assert.Equal(bare, oursIdempotent);
    }

    [Fact]
    public async Task ExecuteScalarAsync_NotIdempotentInsertReturning_TwoRoundTripsAndTheReturnedValue()
    {
        var table = await CreateTableAsync();
        await using var proxy = new RoundTripProxy(postgres.ConnectionString);
        await using var pool = new NpgsqlDataSourceBuilder(proxy.ConnectionString).UseQueryTimeouts().Build();
        var db = new ResilientDataSource(pool);
        long id = 0;

        var ours = await CountAsync(proxy, pool, async () =>
            id = await db.ExecuteScalarAsync<long>($"INSERT INTO {table} (payload) VALUES ($1) RETURNING id", ["x"]));

        Assert.Equal(2, ours);
        Assert.Equal(2L, id);
    }

    [Fact]
    public async Task ExecuteNonQueryAsync_SeveralStatementsWithoutParameters_StillOneExtraRoundTrip()
    {
        var table = await CreateTableAsync();
        await using var proxy = new RoundTripProxy(postgres.ConnectionString);
        await using var pool = new NpgsqlDataSourceBuilder(proxy.ConnectionString).UseQueryTimeouts().Build();
        var db = new ResilientDataSource(pool);

        var ours = await CountAsync(proxy, pool, async () =>
            Assert.Equal(2, await db.ExecuteNonQueryAsync($"INSERT INTO {table} (payload) VALUES ('a'); INSERT INTO {table} (payload) VALUES ('b')", [])));

        Assert.Equal(2, ours); // BEGIN + both statements + pg_current_xact_id() in one, then COMMIT
    }

    [Fact]
    public async Task ExecuteNonQueryAsync_PerCallLimits_StillOneExtraRoundTrip()
    {
        var table = await CreateTableAsync();
        await using var proxy = new RoundTripProxy(postgres.ConnectionString);
        await using var pool = new NpgsqlDataSourceBuilder(proxy.ConnectionString).UseQueryTimeouts().Build();
        var db = new ResilientDataSource(pool);
        var options = new DbCallOptions { Timeouts = new QueryTimeoutOptions { StatementTimeout = TimeSpan.FromSeconds(2) } };

        var ours = await CountAsync(proxy, pool, async () =>
            Assert.Equal(1, await db.ExecuteNonQueryAsync($"INSERT INTO {table} (payload) VALUES ($1)", ["limits"], options)));

        Assert.Equal(2, ours); // the limits travel in the same batch as the statement
    }
}
