using System.Diagnostics;
using Npgsql;
using Resilience.Failures;
using Resilience.Npgsql.Tests.Infrastructure;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Timeouts;

/// <summary>Default limits carried by each physical connection: an idempotent call is the caller's statement alone, and the server still stops it at the limit.</summary>
[Collection(PostgresTests.Name)]
public sealed class ConnectionLimitsTests(PostgresFixture postgres)
{
    private const string Probe = "SELECT current_setting('statement_timeout')";

    private NpgsqlDataSource CreatePool(string applicationName, TimeSpan statementTimeout) =>
        new NpgsqlDataSourceBuilder($"{postgres.ConnectionString};Maximum Pool Size=1;Application Name={applicationName}")
            .UseQueryTimeouts(new QueryTimeoutOptions { StatementTimeout = statementTimeout })
            .Build();

    // The adapter's default limits equal to those the pool's connections start with.
    private static ResilientDataSource Over(NpgsqlDataSource pool, TimeSpan statementTimeout)
    {
        var options = new NpgsqlResilienceOptions();
        options.QueryTimeouts.StatementTimeout = statementTimeout;
        return new ResilientDataSource(pool, options);
    }

    private static async ValueTask<string> ProbeAsync(NpgsqlCommand command, int _, CancellationToken ct)
    {
        command.CommandText = Probe;
        return (string)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The last statement the pool's one backend ran, as the server reports it.</summary>
    private async Task<string> LastStatementAsync(string applicationName)
    {
        await using var observer = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var command = observer.CreateCommand("SELECT query FROM pg_stat_activity WHERE application_name = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = applicationName });
        return (string)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task ExecuteAsync_IdempotentUnderConnectionLimits_RunsAloneWithLimitsInForce()
    {
        var app = "limits-read-" + Guid.NewGuid().ToString("N")[..8];
        await using var pool = CreatePool(app, TimeSpan.FromSeconds(3));
        var db = Over(pool, TimeSpan.FromSeconds(3));

        var timeout = await db.ExecuteAsync(ProbeAsync, 0, DbCallOptions.Idempotent);

        Assert.Equal("3s", timeout);
        Assert.Equal(Probe, await LastStatementAsync(app)); // no COMMIT of ours followed it: no transaction of ours around it
    }

    [Fact]
    public async Task ExecuteAsync_NonIdempotentUnderConnectionLimits_KeepsItsTransactionWithoutSetConfig()
    {
        var app = "limits-write-" + Guid.NewGuid().ToString("N")[..8];
        await using var pool = CreatePool(app, TimeSpan.FromSeconds(3));
        var db = Over(pool, TimeSpan.FromSeconds(3));

        var timeout = await db.ExecuteAsync(ProbeAsync, 0);

        Assert.Equal("3s", timeout);
        Assert.Equal("COMMIT", await LastStatementAsync(app)); // a write not marked idempotent keeps its own transaction
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_CallLimitsDiffer_SetPerCallAndNotLeaked(bool async)
    {
        await using var pool = CreatePool("limits-override", TimeSpan.FromSeconds(5));
        var db = new ResilientDataSource(pool);
        var tight = new DbCallOptions { IsIdempotent = true, Timeouts = new QueryTimeoutOptions { StatementTimeout = TimeSpan.FromMilliseconds(200) } };

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(async, static async (command, _, async, ct) =>
        {
            command.CommandText = "SELECT pg_sleep(3)";
            return await command.ExecuteNonQuery(async, ct);
        }, 0, tight));
        var after = await db.ExecuteAsync(ProbeAsync, 0, DbCallOptions.Idempotent);

        Assert.Equal("57014", error.SqlState);
        Assert.Equal("5s", after);
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_IdempotentSlowQueryUnderConnectionLimits_StoppedOnServer(bool async)
    {
        var app = "limits-stop-" + Guid.NewGuid().ToString("N")[..8];
        await using var pool = CreatePool(app, TimeSpan.FromSeconds(1));
        var db = Over(pool, TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(async, static async (command, _, async, ct) =>
        {
            command.CommandText = "SELECT pg_sleep(30)";
            return await command.ExecuteScalar(async, ct);
        }, 0, DbCallOptions.Idempotent));

        Assert.Equal(FailureKind.Timeout, error.FailureKind);
        Assert.Equal("57014", error.SqlState);

        // Back-to-back queries from a second connection, bounded by a deadline (no sleeping between them).
        await using var observer = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var check = observer.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE '%pg_sleep%'");
        check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = app });
        var deadline = Stopwatch.StartNew();
        var gone = false;
        while (!gone && deadline.Elapsed < TimeSpan.FromSeconds(2))
        {
            gone = (long)(await check.ExecuteScalarAsync())! == 0;
        }

        Assert.True(gone, "the timed-out query still runs on the server");
    }

    [Fact]
    public void UseQueryTimeouts_AppendsStartupOptionsOnce()
    {
        var builder = new NpgsqlDataSourceBuilder(postgres.ConnectionString + ";Options=-c search_path=public");

        builder.UseQueryTimeouts().UseQueryTimeouts();

        Assert.Equal("-c search_path=public -c statement_timeout=5000 -c lock_timeout=2500", builder.ConnectionStringBuilder.Options);
    }
}
