using Npgsql;
using Resilience.Failures;
using Resilience.Npgsql.Tests.Infrastructure;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Npgsql.Tests.Execution;

/// <summary>
/// Hundreds of writes through a proxy that loses one reply in 20: the usual retry duplicates, ours does not. Its own class,
/// beside the <see cref="PostgresTests"/> collection rather than in it (the shared server, its own table and proxy): it
/// judges exact row counts, not time, and was the collection's longest test (about 30 s of CI's serial lane).
/// </summary>
public sealed class LostReplyLoopTests(PostgresFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    [Theory]
    [SyncAndAsync]
    public async Task Execute_FivePercentLostReplies_NoDuplicatesWhereUsualRetryDuplicates(bool async)
    {
        // Each stack loses the reply to one insert in 20. The synchronous path runs the same code with half the inserts (and
        // losses): the async run is the long one, the sync one proves the same exact counts in half the time.
        var inserts = async ? 200 : 100;
        var lost = inserts / 20;
        var table = TestTables.Unique("loop");
        await using var pool = await TestTables.CreateTableAsync(postgres.ConnectionString, $"CREATE TABLE {table} (id bigserial PRIMARY KEY, source text NOT NULL, seq int NOT NULL, key uuid UNIQUE)");
        await using var proxy = new LostReplyProxy(postgres.ConnectionString);
        await using var proxied = NpgsqlDataSource.Create(proxy.ConnectionString);
        var db = new ResilientDataSource(proxied, TestTables.FastRetries());
        var unknown = 0;
        var naiveRetries = 0;

        for (var i = 0; i < inserts; i++)
        {
            var lose = i % 20 == 7; // 5 % of the calls, deterministically

            // The usual stack: an autocommit INSERT retried whenever Npgsql calls the error transient.
            if (lose)
            {
                proxy.LoseNextReplyTo("/*naive*/");
            }

            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await using var naive = proxied.CreateCommand($"/*naive*/ INSERT INTO {table} (source, seq) VALUES ('naive', $1)");
                    naive.Parameters.Add(new NpgsqlParameter<int> { TypedValue = i });
                    await naive.ExecuteNonQueryAsync();
                    break;
                }
                catch (NpgsqlException ex) when (ex.IsTransient && attempt < 3)
                {
                    naiveRetries++;
                }
            }

            // Ours, not idempotent: a lost commit reply is reported, never retried.
            if (lose)
            {
                proxy.LoseNextReplyTo(LostReplyProxy.Commit);
            }

            try
            {
                await db.Execute(async, static async (command, s, async, ct) =>
                {
                    command.CommandText = $"INSERT INTO {s.Table} (source, seq) VALUES ('plain', $1)";
                    command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.Seq });
                    return await command.ExecuteNonQuery(async, ct);
                }, (Table: table, Seq: i));
            }
            catch (DatabaseException ex) when (ex.FailureKind == FailureKind.UnknownOutcome)
            {
                unknown++;
            }

            // Ours, idempotent (client-generated key, ON CONFLICT DO NOTHING): retried, exactly once in effect.
            if (lose)
            {
                proxy.LoseNextReplyTo(LostReplyProxy.Commit);
            }

            await db.Execute(async, static async (command, s, async, ct) =>
            {
                command.CommandText = $"INSERT INTO {s.Table} (source, seq, key) VALUES ('keyed', $1, $2) ON CONFLICT (key) DO NOTHING";
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.Seq });
                command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.Key });
                return await command.ExecuteNonQuery(async, ct);
            }, (Table: table, Seq: i, Key: Guid.NewGuid()), DbCallOptions.Idempotent);
        }

        var duplicates = new Dictionary<string, long>();
        var rows = new Dictionary<string, long>();
        foreach (var source in new[] { "naive", "plain", "keyed" })
        {
            rows[source] = await TestTables.ScalarAsync(pool, $"SELECT count(*) FROM {table} WHERE source = '{source}'");
            duplicates[source] = await TestTables.ScalarAsync(pool, $"SELECT count(*) - count(DISTINCT seq) FROM {table} WHERE source = '{source}'");
        }

        var stats = db.Pipeline.RetryStatistics!.GetSnapshot();
        output.WriteLine($"lost replies={proxy.LostReplies}; naive: retries={naiveRetries}, rows={rows["naive"]}, duplicates={duplicates["naive"]}; " +
            $"plain: rows={rows["plain"]}, unknown outcomes={unknown}, duplicates={duplicates["plain"]}; keyed: rows={rows["keyed"]}, duplicates={duplicates["keyed"]}; our retries={stats.TotalRetries}");

        Assert.Equal(3 * lost, proxy.LostReplies);
        Assert.Equal(lost, naiveRetries);
        Assert.Equal(lost, duplicates["naive"]); // what the usual stack does to a non-idempotent write
        Assert.Equal(0L, duplicates["plain"]);
        Assert.Equal(inserts, rows["plain"]); // every lost reply was in fact a commit: the server said so, nothing repeated
        Assert.Equal(0, unknown);
        Assert.Equal(0L, duplicates["keyed"]);
        Assert.Equal(inserts, rows["keyed"]);
        Assert.Equal(lost, stats.TotalRetries); // only the keyed calls were retried
    }
}
