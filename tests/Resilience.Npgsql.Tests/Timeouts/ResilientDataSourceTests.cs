using System.Diagnostics;
using Npgsql;
using Resilience.Failures;
using Resilience.Npgsql.Tests.Infrastructure;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Timeouts;

[Collection(PostgresTests.Name)]
public sealed class ResilientDataSourceTests(PostgresFixture postgres)
{
    private static NpgsqlResilienceOptions OneSecond => WithStatementTimeout(TimeSpan.FromSeconds(1));

    private static NpgsqlResilienceOptions WithStatementTimeout(TimeSpan timeout) => new() { QueryTimeouts = { StatementTimeout = timeout } };

    private NpgsqlDataSource CreatePool(string applicationName) =>
        // No Reset On Close: a pooled connection keeps its session settings, so only our SET LOCAL scope prevents leaks.
        NpgsqlDataSource.Create($"{postgres.ConnectionString};Maximum Pool Size=1;No Reset On Close=true;Application Name={applicationName}");

    [Theory]
    [SyncAndAsync]
    public async Task Execute_SlowQuery_TimesOutOnServerAndQueryIsGone(bool async)
    {
        var app = "rds-timeout-" + Guid.NewGuid().ToString("N")[..8];
        await using var pool = CreatePool(app);
        var resilient = new ResilientDataSource(pool, OneSecond);
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await resilient.Execute(
            async,
            static async (command, _, async, ct) =>
            {
                command.CommandText = "SELECT pg_sleep(30)";
                return await command.ExecuteScalar(async, ct);
            },
            0));
        watch.Stop();

        Assert.Equal(FailureKind.Timeout, error.FailureKind);
        Assert.Equal(ErrorIds.Timeout, error.ErrorId);
        Assert.Equal("57014", error.SqlState);
        Assert.Contains("statement_timeout = 1000 ms", error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");

        // A second connection sees no pg_sleep left running for this application: back-to-back queries, bounded by a
        // deadline (the server answers each in well under a millisecond; no sleeping between them).
        await using var observer = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var check = observer.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE '%pg_sleep%'");
        check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = app });
        var deadline = Stopwatch.StartNew();
        var gone = false;
        var polls = 0;
        while (!gone && deadline.Elapsed < TimeSpan.FromSeconds(2))
        {
            gone = (long)(await check.ExecuteScalarAsync())! == 0;
            polls++;
        }

        Assert.True(gone, $"the timed-out query still runs on the server after {polls} checks in {deadline.Elapsed}");
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_AfterTimeout_PoolServesAndSettingDoesNotLeak(bool async)
    {
        await using var pool = CreatePool("rds-leak");
        var resilient = new ResilientDataSource(pool, OneSecond);
        await Assert.ThrowsAsync<DatabaseException>(async () => await resilient.Execute(
            async,
            static async (command, _, async, ct) =>
            {
                command.CommandText = "SELECT pg_backend_pid(), pg_sleep(30)";
                return await command.ExecuteScalar(async, ct);
            },
            0));
        var inside = await resilient.Execute(
            async,
            static async (command, _, async, ct) =>
            {
                command.CommandText = "SELECT current_setting('statement_timeout') || '/' || current_setting('lock_timeout') || '/' || pg_backend_pid()";
                return (string)(await command.ExecuteScalar(async, ct))!;
            },
            0);

        // Same physical connection (pool of one), used directly: the server defaults are back.
        await using var connection = await pool.OpenConnectionAsync();
        await using var show = new NpgsqlCommand("SELECT current_setting('statement_timeout') || '/' || current_setting('lock_timeout') || '/' || pg_backend_pid()", connection);
        var after = (string)(await show.ExecuteScalarAsync())!;

        var insideParts = inside.Split('/');
        var afterParts = after.Split('/');
        Assert.Equal("1s", insideParts[0]);
        Assert.Equal("500ms", insideParts[1]);
        Assert.Equal("0", afterParts[0]);
        Assert.Equal("0", afterParts[1]);
        Assert.Equal(insideParts[2], afterParts[2]);
    }

    [Fact]
    public async Task Execute_Success_CommitsAndReturnsResult()
    {
        await using var pool = CreatePool("rds-ok");
        var resilient = new ResilientDataSource(pool);
        await using (var setup = pool.CreateCommand("CREATE TABLE IF NOT EXISTS rds_commit (id int PRIMARY KEY); DELETE FROM rds_commit"))
        {
            await setup.ExecuteNonQueryAsync();
        }

        var inserted = await resilient.ExecuteAsync(
            static async (command, id, ct) =>
            {
                command.CommandText = "INSERT INTO rds_commit VALUES ($1)";
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = id });
                return await command.ExecuteNonQueryAsync(ct);
            },
            42);
        await using var count = pool.CreateCommand("SELECT count(*) FROM rds_commit WHERE id = 42");

        Assert.Equal(1, inserted);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_ServerError_TranslatedAndRolledBack(bool async)
    {
        await using var pool = CreatePool("rds-rollback");
        var resilient = new ResilientDataSource(pool);
        await using (var setup = pool.CreateCommand("CREATE TABLE IF NOT EXISTS rds_rollback (id int PRIMARY KEY); DELETE FROM rds_rollback"))
        {
            await setup.ExecuteNonQueryAsync();
        }

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await resilient.Execute(
            async,
            static async (command, _, async, ct) =>
            {
                command.CommandText = "INSERT INTO rds_rollback VALUES (7); INSERT INTO rds_rollback VALUES (7)";
                return await command.ExecuteNonQuery(async, ct);
            },
            0));
        await using var count = pool.CreateCommand("SELECT count(*) FROM rds_rollback");

        Assert.Equal(FailureKind.Conflict, error.FailureKind);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_PoolExhausted_UnavailableBeforeSend(bool async)
    {
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString + ";Maximum Pool Size=1;Timeout=1");
        var resilient = new ResilientDataSource(pool);
        await using var held = await pool.OpenConnectionAsync();

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await resilient.Execute(
            async,
            static (command, _, _, ct) => ValueTask.FromResult(0),
            0));

        Assert.Equal(FailureKind.Unavailable, error.FailureKind);
        Assert.Equal(ErrorIds.DatabaseUnavailable, error.ErrorId);
        Assert.True(error.FailedBeforeSend);
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_CallerCancels_PropagatesOperationCanceledAndStopsQuery(bool async)
    {
        var app = "rds-cancel-" + Guid.NewGuid().ToString("N")[..8];
        await using var pool = CreatePool(app);
        var resilient = new ResilientDataSource(pool, WithStatementTimeout(TimeSpan.FromSeconds(30)));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await resilient.Execute(
            async,
            static async (command, _, async, ct) =>
            {
                command.CommandText = "SELECT pg_sleep(30)";
                return await command.ExecuteScalar(async, ct);
            },
            0,
            cancellationToken: cts.Token));
        await using var observer = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var check = observer.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'");
        check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = app });
        Assert.Equal(0L, (long)(await check.ExecuteScalarAsync())!); // the caller's cancellation stopped it on the server

        var after = await resilient.ExecuteAsync(
            static async (command, ct) =>
            {
                command.CommandText = "SELECT 1";
                return (int)(await command.ExecuteScalarAsync(ct))!;
            },
            CancellationToken.None);

        Assert.Equal(1, after);
    }

    [Fact]
    public async Task ExecuteWithTimeout_Extension_TimesOut()
    {
        await using var pool = CreatePool("rds-ext");

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await pool.ExecuteWithTimeoutAsync(
            static async (command, sql, ct) =>
            {
                command.CommandText = sql;
                return await command.ExecuteScalarAsync(ct);
            },
            "SELECT pg_sleep(30)",
            new QueryTimeoutOptions { StatementTimeout = TimeSpan.FromMilliseconds(300) }));

        Assert.Equal(FailureKind.Timeout, error.FailureKind);
    }

    [Fact]
    public void Options_Invalid_ListsEveryRule()
    {
        var options = new QueryTimeoutOptions
        {
            StatementTimeout = TimeSpan.Zero,
            LockTimeout = TimeSpan.FromSeconds(-1),
            CommandTimeoutMargin = TimeSpan.FromMinutes(5),
        };

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(options.Validate);

        Assert.Equal(3, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.StartsWith("StatementTimeout: must be between", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("LockTimeout: must be positive", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("CommandTimeoutMargin: must be between", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_Defaults_FiveSecondsHalfLockOneSecondMargin()
    {
        var options = new QueryTimeoutOptions();

        Assert.Equal(TimeSpan.FromSeconds(5), options.StatementTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), options.EffectiveLockTimeout);
        Assert.Equal(6, options.CommandTimeoutSeconds);
    }
}
