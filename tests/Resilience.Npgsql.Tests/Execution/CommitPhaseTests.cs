using Npgsql;
using Resilience.Failures;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Execution;

/// <summary>A failure while <c>COMMIT</c> is in flight is an unknown outcome unless the server reported an ERROR: never retried for a call not marked idempotent.</summary>
[Collection(PostgresTests.Name)]
public sealed class CommitPhaseTests(PostgresFixture postgres)
{
    [Fact]
    public async Task ExecuteAsync_BackendTerminatedDuringCommit_NonIdempotentIsUnknownOutcomeAndNotRetried()
    {
        var table = "commit_fatal_" + Guid.NewGuid().ToString("N")[..10];
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);

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

        var options = new NpgsqlResilienceOptions { Name = "commit-phase" };
        options.Retry.BaseDelay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        var db = new ResilientDataSource(pool, options);
        var runs = new int[1];

        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteAsync(static async (command, s, ct) =>
        {
            Interlocked.Increment(ref s.runs[0]);
            command.CommandText = $"INSERT INTO {s.table} DEFAULT VALUES";
            return await command.ExecuteNonQueryAsync(ct);
        }, (table, runs)));

        Assert.Equal(FailureKind.UnknownOutcome, error.FailureKind);
        Assert.Equal(ErrorIds.UnknownOutcome, error.ErrorId);
        Assert.Equal("57P01", error.SqlState);
        Assert.Equal(1, runs[0]);
        Assert.Equal(0L, db.Pipeline.RetryStatistics!.GetSnapshot().TotalRetries);
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
