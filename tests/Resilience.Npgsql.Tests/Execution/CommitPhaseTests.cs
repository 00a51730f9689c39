using Npgsql;
using Resilience.Failures;
using Resilience.Npgsql.Tests.Infrastructure;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Execution;

/// <summary>A failure while <c>COMMIT</c> is in flight is an unknown outcome unless the server reported an ERROR: never retried for a call not marked idempotent.</summary>
[Collection(PostgresTests.Name)]
public sealed class CommitPhaseTests(PostgresFixture postgres)
{
    private async Task<(NpgsqlDataSource Pool, string Table)> CreateDyingCommitTableAsync()
    {
        var table = "commit_fatal_" + Guid.NewGuid().ToString("N")[..10];
        var pool = NpgsqlDataSource.Create(postgres.ConnectionString);

        // A deferred trigger runs inside COMMIT; it terminates its own backend, so the client gets FATAL 57P01 at COMMIT,
        // as it would from a backend terminated after a local commit while waiting for synchronous replication.
        await using (var create = pool.CreateCommand($"""
            CREATE TABLE {table} (id bigserial PRIMARY KEY);
            CREATE FUNCTION {table}_die() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); RETURN NULL; END $$;
            CREATE CONSTRAINT TRIGGER {table}_die AFTER INSERT ON {table} DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION {table}_die();
            """))
        {
            await create.ExecuteNonQueryAsync();
        }

        return (pool, table);
    }

    private static ResilientDataSource Create(NpgsqlDataSource pool)
    {
        var options = new NpgsqlResilienceOptions { Name = "commit-phase" };
        options.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        return new ResilientDataSource(pool, options);
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_BackendTerminatedDuringCommit_ServerSaysAbortedSoRetriedWithoutDuplicate(bool async)
    {
        var (pool, table) = await CreateDyingCommitTableAsync();
        await using var _ = pool;
        var db = Create(pool);
        var runs = new int[1];

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(async, static async (command, s, async, ct) =>
        {
            Interlocked.Increment(ref s.runs[0]);
            command.CommandText = $"INSERT INTO {s.table} DEFAULT VALUES";
            return await command.ExecuteNonQuery(async, ct);
        }, (table, runs)));
        await using var count = pool.CreateCommand($"SELECT count(*) FROM {table}");

        // pg_xact_status said "aborted" each time: a known rollback, retried until the retries ran out; nothing written.
        Assert.Equal(FailureKind.Unavailable, error.FailureKind);
        Assert.Equal("57P01", error.SqlState);
        Assert.Equal(6, runs[0]);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Theory]
    [InlineData("57P01", "FATAL", false, FailureKind.UnknownOutcome)]
    [InlineData("57P02", "FATAL", false, FailureKind.UnknownOutcome)]
    [InlineData("08007", "FATAL", false, FailureKind.UnknownOutcome)]
    [InlineData("08006", "ERROR", false, FailureKind.UnknownOutcome)]
    [InlineData("40003", "ERROR", false, FailureKind.UnknownOutcome)]
    [InlineData("40003", "ERROR", true, FailureKind.Transient)]
    [InlineData("57P01", "FATAL", true, FailureKind.Unavailable)]
    [InlineData("40001", "ERROR", false, FailureKind.Transient)]
    [InlineData("23505", "ERROR", false, FailureKind.Conflict)]
    public void Translate_ServerErrorAtCommit_UnknownUnlessErrorSeverity(string sqlState, string severity, bool idempotent, FailureKind expected)
    {
        var error = new PostgresException("server message", severity, severity, sqlState);

        var translated = QueryExecutor.Translate(error, new QueryTimeoutOptions(), QueryExecutor.Phase.Commit, idempotent);

        Assert.Equal(expected, translated.FailureKind);
        Assert.Equal(expected is FailureKind.Transient or FailureKind.Unavailable, ResilientDataSource.IsSafeToRetry(translated));
    }
}
