using System.Data;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Failures;
using Resilience.Npgsql.Tests.Infrastructure;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Npgsql.Tests.Execution;

/// <summary>What is retried and what is not, proven against a real server (and a proxy that loses the commit's reply).</summary>
[Collection(PostgresTests.Name)]
public sealed class SafeRetryTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Theory]
    [SyncAndAsync]
    public async Task InTransaction_SerializationFailure_RerunsLoserAndEachEffectCommitsOnce(bool async)
    {
        var table = TestTables.Unique("tickets");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (n bigint NOT NULL)");
        var db = new ResilientDataSource(pool, TestTables.FastRetries());
        var race = new Race(table);

        // Both read the count before either writes (write skew): SERIALIZABLE must abort one of them with 40001.
        // A synchronous call blocks its thread, so each runs on its own.
        var results = await Task.WhenAll(
            Task.Run(async () => await db.InTransaction(async, TakeTicketAsync, race, IsolationLevel.Serializable)),
            Task.Run(async () => await db.InTransaction(async, TakeTicketAsync, race, IsolationLevel.Serializable)));
        var stats = db.Pipeline.RetryStatistics!.GetSnapshot();
        var rows = await TestTables.ScalarAsync(pool, $"SELECT count(*) FROM {table}");
        var distinct = await TestTables.ScalarAsync(pool, $"SELECT count(DISTINCT n) FROM {table}");
        output.WriteLine($"serialization: attempts={race.Attempts}, retries={stats.TotalRetries}, rows={rows}");

        Assert.Equal([1L, 2L], results.Order().ToArray());
        Assert.Equal(2L, rows);
        Assert.Equal(2L, distinct);
        Assert.Equal(3, race.Attempts);
        Assert.Equal(1L, stats.TotalRetries);
        Assert.Equal(1L, stats.RetriedSuccesses);
        Assert.Equal(1L, stats.FirstTrySuccesses);
        Assert.Equal(CircuitState.Closed, db.Pipeline.CircuitBreaker!.State);
    }

    private static async ValueTask<long> TakeTicketAsync(NpgsqlCommand command, Race race, bool async, CancellationToken ct)
    {
        Interlocked.Increment(ref race.Attempts);
        command.CommandText = $"SELECT count(*) FROM {race.Table}";
        var taken = (long)(await command.ExecuteScalar(async, ct))!;
        await race.Arrive(async, ct);
        command.CommandText = $"INSERT INTO {race.Table} (n) VALUES ($1)";
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = taken + 1 });
        await command.ExecuteNonQuery(async, ct);
        return taken + 1;
    }

    [Theory]
    [SyncAndAsync]
    public async Task InTransaction_Deadlock_VictimRerunsAndBothCommitOnce(bool async)
    {
        var table = TestTables.Unique("accounts");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (id int PRIMARY KEY, v int NOT NULL); INSERT INTO {table} VALUES (1, 0), (2, 0)");
        var db = new ResilientDataSource(pool, TestTables.FastRetries());
        var race = new Race(table);

        // Opposite lock order, both holding their first row before taking the second: a real deadlock (40P01).
        await Task.WhenAll(
            Task.Run(async () => await db.InTransaction(async, TransferAsync, (race, First: 1, Second: 2), IsolationLevel.ReadCommitted)),
            Task.Run(async () => await db.InTransaction(async, TransferAsync, (race, First: 2, Second: 1), IsolationLevel.ReadCommitted)));
        var stats = db.Pipeline.RetryStatistics!.GetSnapshot();
        var sum = await TestTables.ScalarAsync(pool, $"SELECT sum(v) FROM {table}");
        var each = await TestTables.ScalarAsync(pool, $"SELECT count(*) FROM {table} WHERE v = 2");
        output.WriteLine($"deadlock: attempts={race.Attempts}, retries={stats.TotalRetries}, sum={sum}");

        Assert.Equal(4L, sum);
        Assert.Equal(2L, each);
        Assert.Equal(3, race.Attempts);
        Assert.Equal(1L, stats.TotalRetries);
        Assert.Equal(CircuitState.Closed, db.Pipeline.CircuitBreaker!.State);
    }

    private static async ValueTask<int> TransferAsync(NpgsqlCommand command, (Race Race, int First, int Second) state, bool async, CancellationToken ct)
    {
        Interlocked.Increment(ref state.Race.Attempts);
        command.CommandText = $"UPDATE {state.Race.Table} SET v = v + 1 WHERE id = $1";
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = state.First });
        await command.ExecuteNonQuery(async, ct);
        await state.Race.Arrive(async, ct);
        command.Parameters.Clear();
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = state.Second });
        return await command.ExecuteNonQuery(async, ct);
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_LostCommitReply_IdempotentWriteRetriedToExactlyOneRow(bool async)
    {
        var table = TestTables.Unique("orders");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (id uuid PRIMARY KEY)");
        await using var proxy = new LostReplyProxy(postgres.ConnectionString);
        await using var proxied = NpgsqlDataSource.Create(proxy.ConnectionString);
        var db = new ResilientDataSource(proxied, TestTables.FastRetries());
        var insert = new KeyedInsert(table, Guid.NewGuid());

        proxy.LoseNextReplyTo(LostReplyProxy.Commit);
        var inserted = await db.Execute(async, InsertKeyedAsync, insert, DbCallOptions.Idempotent);
        var stats = db.Pipeline.RetryStatistics!.GetSnapshot();
        var rows = await TestTables.ScalarAsync(pool, $"SELECT count(*) FROM {table}");

        Assert.Equal(1, proxy.LostReplies);
        Assert.Equal(0, inserted); // the second run found the row the first run committed
        Assert.Equal(1L, rows);
        Assert.Equal(2, insert.Runs);
        Assert.Equal(1L, stats.TotalRetries);
        Assert.Equal(1L, stats.RetriedSuccesses);
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_LostCommitReply_NonIdempotentWriteResolvedByServerAsCommittedAndNotRetried(bool async)
    {
        var table = TestTables.Unique("events");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (id bigserial PRIMARY KEY, payload text NOT NULL)");
        await using var proxy = new LostReplyProxy(postgres.ConnectionString);
        await using var proxied = NpgsqlDataSource.Create(proxy.ConnectionString);
        var db = new ResilientDataSource(proxied, TestTables.FastRetries());
        var insert = new PlainInsert(table);

        proxy.LoseNextReplyTo(LostReplyProxy.Commit);
        var inserted = await db.Execute(async, InsertPlainAsync, insert);
        var stats = db.Pipeline.RetryStatistics!.GetSnapshot();
        var rows = await TestTables.ScalarAsync(pool, $"SELECT count(*) FROM {table}");

        // pg_xact_status on a new connection said "committed": the write is acknowledged, never repeated.
        Assert.Equal(1, proxy.LostReplies);
        Assert.Equal(1, inserted);
        Assert.Equal(1L, rows);
        Assert.Equal(1, insert.Runs);
        Assert.Equal(0L, stats.TotalRetries);
    }

    [Fact]
    public async Task ExecuteNonQueryAsync_LostCommitReply_TransactionIdFoldedIntoStatementStillResolvesAsCommitted()
    {
        var table = TestTables.Unique("events");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (id bigserial PRIMARY KEY, payload text NOT NULL)");
        await using var proxy = new LostReplyProxy(postgres.ConnectionString);
        await using var proxied = NpgsqlDataSource.Create(proxy.ConnectionString);
        var db = new ResilientDataSource(proxied, TestTables.FastRetries());

        proxy.LoseNextReplyTo(LostReplyProxy.Commit);
        var inserted = await db.ExecuteNonQueryAsync($"INSERT INTO {table} (payload) VALUES ($1)", ["once"]);
        var stats = db.Pipeline.RetryStatistics!.GetSnapshot();
        var rows = await TestTables.ScalarAsync(pool, $"SELECT count(*) FROM {table}");

        // The transaction id came back with the INSERT (one batch), before COMMIT was sent: the server is asked, not guessed.
        Assert.Equal(1, proxy.LostReplies);
        Assert.Equal(1, inserted);
        Assert.Equal(1L, rows);
        Assert.Equal(0L, stats.TotalRetries);
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_UnknownOutcome_LogsUnknownOutcomeWarning(bool async)
    {
        var table = TestTables.Unique("events");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (id bigserial PRIMARY KEY, payload text NOT NULL)");
        await using var proxy = new LostReplyProxy(postgres.ConnectionString);
        await using var proxied = NpgsqlDataSource.Create(proxy.ConnectionString);
        var logs = new CapturingLogger();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs));
        var db = new ResilientDataSource(proxied, TestTables.FastRetries(), loggerFactory: loggerFactory);

        // Without a transaction of ours the server cannot be asked: a lost reply to the write is an unknown outcome.
        proxy.LoseNextReplyTo(PlainInsert.Marker);
        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(async, InsertPlainAsync, new PlainInsert(table), new DbCallOptions { WithoutTransaction = true }));

        Assert.Equal(FailureKind.UnknownOutcome, error.FailureKind);
        var entry = Assert.Single(logs.Entries, e => e.EventId.Id == NpgsqlResilienceEventIds.UnknownOutcome);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Contains("safe-retry", entry.Message, StringComparison.Ordinal);
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_ReplyLostBeforeCommit_NonIdempotentWriteRetriedSafely(bool async)
    {
        var table = TestTables.Unique("events");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (id bigserial PRIMARY KEY, payload text NOT NULL)");
        await using var proxy = new LostReplyProxy(postgres.ConnectionString);
        await using var proxied = NpgsqlDataSource.Create(proxy.ConnectionString);
        var db = new ResilientDataSource(proxied, TestTables.FastRetries());
        var insert = new PlainInsert(table);

        // The INSERT's reply is lost: its transaction never committed, so the server rolls it back and a re-run is safe.
        proxy.LoseNextReplyTo(PlainInsert.Marker);
        await db.Execute(async, InsertPlainAsync, insert);
        var stats = db.Pipeline.RetryStatistics!.GetSnapshot();
        var rows = await TestTables.ScalarAsync(pool, $"SELECT count(*) FROM {table}");

        Assert.Equal(1, proxy.LostReplies);
        Assert.Equal(1L, rows);
        Assert.Equal(2, insert.Runs);
        Assert.Equal(1L, stats.TotalRetries);
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_RetriedAfterLostReply_OnRetryToldTheAttemptAndTheFailure(bool async)
    {
        var table = TestTables.Unique("observed");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (id bigserial PRIMARY KEY, payload text NOT NULL)");
        await using var proxy = new LostReplyProxy(postgres.ConnectionString);
        await using var proxied = NpgsqlDataSource.Create(proxy.ConnectionString);
        var seen = new List<DbRetryInfo>();
        var options = TestTables.FastRetries();
        options.OnRetry = seen.Add;
        var db = new ResilientDataSource(proxied, options);

        proxy.LoseNextReplyTo(PlainInsert.Marker);
        await db.Execute(async, InsertPlainAsync, new PlainInsert(table));
        await db.Execute(async, InsertPlainAsync, new PlainInsert(table));

        var retry = Assert.Single(seen);
        Assert.Equal(2, retry.Attempt);
        Assert.Equal("safe-retry", retry.Name);
        Assert.True(retry.Failure.FailureKind is FailureKind.Transient or FailureKind.Unavailable, retry.Failure.FailureKind.ToString());
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_PoolExhausted_FailsWithinOneAcquireTimeoutWithoutRetry(bool async)
    {
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString + ";Maximum Pool Size=1;Timeout=1");
        var db = new ResilientDataSource(pool, TestTables.FastRetries());
        await using var held = await pool.OpenConnectionAsync();
        var runs = new Counter();

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(
            async,
            static (command, counter, _, ct) => ValueTask.FromResult(Interlocked.Increment(ref counter.Value)),
            runs,
            DbCallOptions.Idempotent));
        watch.Stop();
        var stats = db.Pipeline.RetryStatistics!.GetSnapshot();
        output.WriteLine($"pool exhausted: elapsed={watch.Elapsed.TotalMilliseconds:F0} ms, attempts={stats.TotalRetries + 1}");

        Assert.Equal(FailureKind.Unavailable, error.FailureKind);
        Assert.Equal(ErrorIds.DatabaseUnavailable, error.ErrorId);
        Assert.True(error.FailedBeforeSend);
        Assert.Equal(0, runs.Value);
        Assert.Equal(0L, stats.TotalRetries); // one attempt: not multiplied by retries
        Assert.Equal(1L, stats.NotRetried);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}"); // sanity bound: 2x the acquire timeout
        Assert.Equal(CircuitState.Closed, db.Pipeline.CircuitBreaker!.State);
        Assert.Equal(0, db.Pipeline.CircuitBreaker.GetSnapshot().Failures);
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_ClientCommandTimeoutOnRead_NotRerun(bool async)
    {
        var sequence = TestTables.Unique("runs");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE SEQUENCE {sequence}");
        var db = new ResilientDataSource(pool, TestTables.FastRetries(statementTimeout: TimeSpan.FromSeconds(30)));

        // The server would allow 30 s; the client gives up after 1 s. Even an idempotent read is not run again.
        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(
            async,
            static async (command, seq, async, ct) =>
            {
                command.CommandTimeout = 1;
                command.CommandText = $"SELECT nextval('{seq}'), pg_sleep(5)";
                return await command.ExecuteScalar(async, ct);
            },
            sequence,
            DbCallOptions.Idempotent));
        var executions = await TestTables.ScalarAsync(pool, $"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {sequence}");
        var stats = db.Pipeline.RetryStatistics!.GetSnapshot();

        Assert.Equal(FailureKind.Timeout, error.FailureKind);
        Assert.Equal(ErrorIds.Timeout, error.ErrorId);
        Assert.Equal(1L, executions);
        Assert.Equal(0L, stats.TotalRetries);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Execute_TotalTimeoutFires_TimeoutErrorAndQueryStoppedOnServer(bool async, bool idempotent)
    {
        var sequence = TestTables.Unique("total");
        var app = TestTables.Unique("total_app");
        await using var setup = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE SEQUENCE {sequence}");
        await using var pool = NpgsqlDataSource.Create($"{postgres.ConnectionString};Application Name={app}");
        var options = TestTables.FastRetries(statementTimeout: TimeSpan.FromSeconds(30));
        options.TotalTimeout = TimeSpan.FromSeconds(2);
        var db = new ResilientDataSource(pool, options);

        // nextval runs only after the sleep: a statement stopped at the deadline never calls it.
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(
            async,
            static async (command, seq, async, ct) =>
            {
                command.CommandText = $"SELECT pg_sleep(10), nextval('{seq}')";
                return await command.ExecuteScalar(async, ct);
            },
            sequence,
            new DbCallOptions { IsIdempotent = idempotent }));
        watch.Stop();
        output.WriteLine($"total timeout 2 s, async={async}, idempotent={idempotent}: failed after {watch.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal(FailureKind.Timeout, error.FailureKind);
        Assert.Equal(ErrorIds.Timeout, error.ErrorId);
        Assert.IsType<Resilience.Timeouts.OperationTimeoutException>(error.InnerException);
        Assert.False(await IsCalledAsync(setup, sequence)); // the statement was stopped, not left to finish
        Assert.True(await NoLongerRunningAsync(setup, app), "the statement still runs on the server");
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_TotalTimeoutFiresBeforeStatementStarts_StatementStoppedOnServer(bool async)
    {
        var sequence = TestTables.Unique("late");
        var app = TestTables.Unique("late_app");
        await using var other = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE SEQUENCE {sequence}");
        await using var pool = NpgsqlDataSource.Create($"{postgres.ConnectionString};Application Name={app}");
        var options = TestTables.FastRetries(statementTimeout: TimeSpan.FromSeconds(30));
        options.TotalTimeout = TimeSpan.FromMilliseconds(500);
        var db = new ResilientDataSource(pool, options);

        // The deadline passes while the operation waits on another connection (nothing of ours in flight to cancel); the
        // statement it starts afterwards must still be stopped, not left to run to its end.
        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(
            async,
            static async (command, s, async, ct) =>
            {
                await using (var elsewhere = s.Other.CreateCommand("SELECT pg_sleep(1)"))
                {
                    await elsewhere.ExecuteScalar(async, CancellationToken.None);
                }

                command.CommandText = $"SELECT pg_sleep(10), nextval('{s.Sequence}')";
                return await command.ExecuteScalar(async, ct);
            },
            (Other: other, Sequence: sequence),
            DbCallOptions.Idempotent));

        Assert.Equal(FailureKind.Timeout, error.FailureKind);
        Assert.False(await IsCalledAsync(other, sequence));
        Assert.True(await NoLongerRunningAsync(other, app), "the statement still runs on the server");
    }

    private static async Task<bool> IsCalledAsync(NpgsqlDataSource pool, string sequence)
    {
        await using var command = pool.CreateCommand($"SELECT is_called FROM {sequence}");
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Whether no statement of <paramref name="applicationName"/> is active: back-to-back checks (no sleeping), up to 50.</summary>
    private static async Task<bool> NoLongerRunningAsync(NpgsqlDataSource observer, string applicationName)
    {
        await using var check = observer.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'");
        check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = applicationName });
        for (var i = 0; i < 50; i++)
        {
            if ((long)(await check.ExecuteScalarAsync())! == 0)
            {
                return true;
            }
        }

        return false;
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_Conflicts_DoNotOpenCircuit(bool async)
    {
        var table = TestTables.Unique("conflicts");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (id int PRIMARY KEY); INSERT INTO {table} VALUES (1)");
        var options = TestTables.FastRetries();
        options.CircuitBreaker.Mode = CircuitBreakerMode.ConsecutiveFailures;
        options.CircuitBreaker.FailureThreshold = 2;
        var db = new ResilientDataSource(pool, options);

        for (var i = 0; i < 5; i++)
        {
            var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(
                async,
                static async (command, t, async, ct) =>
                {
                    command.CommandText = $"INSERT INTO {t} VALUES (1)";
                    return await command.ExecuteNonQuery(async, ct);
                },
                table));
            Assert.Equal(FailureKind.Conflict, error.FailureKind);
        }

        Assert.Equal(CircuitState.Closed, db.Pipeline.CircuitBreaker!.State);
        Assert.Equal(0L, db.Pipeline.RetryStatistics!.GetSnapshot().TotalRetries);
    }

    [Theory]
    [InlineData(false, false, CircuitState.Closed)]
    [InlineData(false, true, CircuitState.Open)]
    [InlineData(true, false, CircuitState.Closed)]
    [InlineData(true, true, CircuitState.Open)]
    public async Task Execute_OwnStatementTimeouts_CountAgainstBreakerOnlyWithSlowCallDetection(bool async, bool slowCallsCount, CircuitState expected)
    {
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString);
        var options = TestTables.FastRetries(statementTimeout: TimeSpan.FromMilliseconds(50));
        options.CircuitBreaker.Mode = CircuitBreakerMode.ConsecutiveFailures;
        options.CircuitBreaker.FailureThreshold = 2;
        options.CircuitBreaker.SlowCallThreshold = slowCallsCount ? TimeSpan.FromSeconds(30) : null;
        var db = new ResilientDataSource(pool, options);

        for (var i = 0; i < 2; i++)
        {
            var error = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(
                async,
                static async (command, _, async, ct) =>
                {
                    command.CommandText = "SELECT pg_sleep(1)";
                    return await command.ExecuteNonQuery(async, ct);
                },
                0,
                DbCallOptions.Idempotent));
            Assert.Equal("57014", error.SqlState);
        }

        Assert.Equal(expected, db.Pipeline.CircuitBreaker!.State);
    }

    [Fact]
    public async Task Execute_Sync_CommitsAndReturnsResult()
    {
        var table = TestTables.Unique("sync");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (id int PRIMARY KEY)");
        var db = new ResilientDataSource(pool, TestTables.FastRetries());

        var inserted = db.Execute(static (command, t) =>
        {
            command.CommandText = $"INSERT INTO {t} VALUES (1), (2)";
            return command.ExecuteNonQuery();
        }, table);
        var total = db.InTransaction(static (command, t) =>
        {
            command.CommandText = $"UPDATE {t} SET id = id * 10";
            command.ExecuteNonQuery();
            command.CommandText = $"SELECT sum(id) FROM {t}";
            return (long)command.ExecuteScalar()!;
        }, table, IsolationLevel.Serializable);

        Assert.Equal(2, inserted);
        Assert.Equal(30L, total);
    }

    private static async ValueTask<int> InsertKeyedAsync(NpgsqlCommand command, KeyedInsert insert, bool async, CancellationToken ct)
    {
        Interlocked.Increment(ref insert.Runs);
        command.CommandText = $"INSERT INTO {insert.Table} (id) VALUES ($1) ON CONFLICT (id) DO NOTHING";
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = insert.Key });
        return await command.ExecuteNonQuery(async, ct);
    }

    private static async ValueTask<int> InsertPlainAsync(NpgsqlCommand command, PlainInsert insert, bool async, CancellationToken ct)
    {
        Interlocked.Increment(ref insert.Runs);
        command.CommandText = $"{PlainInsert.Marker} INSERT INTO {insert.Table} (payload) VALUES ('x')";
        return await command.ExecuteNonQuery(async, ct);
    }

    private sealed class Counter
    {
        public int Value;
    }

    private sealed class KeyedInsert(string table, Guid key)
    {
        public int Runs;

        public string Table { get; } = table;

        public Guid Key { get; } = key;
    }

    private sealed class PlainInsert(string table)
    {
        public const string Marker = "/*lose-insert-reply*/";

        public int Runs;

        public string Table { get; } = table;
    }

    /// <summary>Holds the first two arrivals until both are there (the later re-run passes straight through).</summary>
    private sealed class Race(string table)
    {
        private readonly TaskCompletionSource _bothArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrivals;

        public int Attempts;

        public string Table { get; } = table;

        /// <summary>Arrives; a synchronous operation waits on its own thread (it must not yield).</summary>
        public ValueTask Arrive(bool async, CancellationToken ct)
        {
            var arrived = ArriveAsync(ct);
            if (async)
            {
                return new ValueTask(arrived);
            }

            arrived.GetAwaiter().GetResult();
            return default;
        }

        public Task ArriveAsync(CancellationToken ct)
        {
            var arrival = Interlocked.Increment(ref _arrivals);
            if (arrival > 2)
            {
                return Task.CompletedTask;
            }

            if (arrival == 2)
            {
                _bothArrived.TrySetResult();
            }

            return _bothArrived.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        }
    }
}
