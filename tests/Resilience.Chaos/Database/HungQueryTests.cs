using System.Diagnostics;
using Npgsql;
using Resilience.Chaos.Reporting;
using Resilience.Failures;
using Resilience.Npgsql;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Chaos.Database;

/// <summary>
/// Scenario 3, hung queries: <c>pg_sleep</c> far beyond the limit. The caller must get a timeout within the limit plus a
/// small slack, the query must be gone from <c>pg_stat_activity</c> within 1 s, and the pooled connection must come back
/// usable. Baseline in the same run: plain Npgsql with <c>CommandTimeout</c>, as most code bounds a query.
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class HungQueryTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int LimitSeconds = 1;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(LimitSeconds);
    // The adapter's documented client guard is the statement timeout plus CommandTimeoutMargin (1 s): the caller must hear
    // back no later than that, even on a loaded two-core machine. The table shows how close to the limit it really is.
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan GoneWithin = TimeSpan.FromSeconds(1);
    private const string HungQuery = "SELECT pg_backend_pid(), pg_sleep(30)";

    [Fact]
    public async Task HungQuery_OursAndPlainCommandTimeout_TimeoutInTimeQueryGoneConnectionReused()
    {
        var repetitions = ChaosRun.Repetitions(3);
        await using var activity = new ServerActivity(postgres.ConnectionString);
        var ours = new List<Trial>();
        var plain = new List<Trial>();
        for (var i = 0; i < repetitions; i++)
        {
            // Interleaved, so both stacks see the same machine load.
            ours.Add(await RunOursAsync(activity));
            plain.Add(await RunPlainAsync(activity));
        }

        new FigureTable($"Scenario 3 — hung query (pg_sleep(30), limit {LimitSeconds} s, {repetitions} trials each)", "stack", "error", "time to error (max)", "query gone from pg_stat_activity after error (max)", "next call on the same pool", "same backend reused")
            .Row("Resilience.Npgsql (StatementTimeout = 1 s)", Describe(ours), Max(ours, static t => t.TimeToError), MaxGone(ours), MaxNext(ours), ours.All(static t => t.SameBackend) ? "yes" : "no")
            .Row("plain Npgsql (CommandTimeout = 1)", Describe(plain), Max(plain, static t => t.TimeToError), MaxGone(plain), MaxNext(plain), plain.All(static t => t.SameBackend) ? "yes" : "no")
            .Print(output);

        foreach (var trial in ours)
        {
            Assert.Equal("Timeout/ERR_TIMEOUT", trial.Error);
            Assert.True(trial.TimeToError <= Limit + Slack, $"ours took {trial.TimeToError} to report the timeout (limit {Limit} + slack {Slack})");
            Assert.True(trial.GoneAfter is not null && trial.GoneAfter <= GoneWithin, $"the query still ran {GoneWithin} after ours reported the timeout");
            Assert.True(trial.NextCallSucceeded, "the pool did not serve the next call");
            Assert.True(trial.SameBackend, "the timed-out connection was not returned to the pool usable (a new backend served the next call)");
        }
    }

    private async Task<Trial> RunOursAsync(ServerActivity activity)
    {
        var app = "chaos-hung-ours-" + Guid.NewGuid().ToString("N")[..8];
        await using var pool = CreatePool(app);
        var resilient = new ResilientDataSource(pool, new NpgsqlResilienceOptions { QueryTimeouts = { StatementTimeout = Limit } });
        var pid = await resilient.ExecuteAsync(static async (command, ct) =>
        {
            command.CommandText = "SELECT pg_backend_pid()";
            return (int)(await command.ExecuteScalarAsync(ct))!;
        }, CancellationToken.None);

        var watch = Stopwatch.StartNew();
        string error;
        try
        {
            await resilient.ExecuteAsync(static async (command, ct) =>
            {
                command.CommandText = HungQuery;
                return await command.ExecuteScalarAsync(ct);
            }, CancellationToken.None);
            error = "none (returned)";
        }
        catch (DatabaseException ex)
        {
            error = $"{ex.FailureKind}/{ex.ErrorId}";
        }

        var timeToError = watch.Elapsed;
        var gone = await activity.TimeUntilGoneAsync(app, "%pg_sleep%", TimeSpan.FromSeconds(5));
        var next = Stopwatch.StartNew();
        int? nextPid = null;
        try
        {
            nextPid = await resilient.ExecuteAsync(static async (command, ct) =>
            {
                command.CommandText = "SELECT pg_backend_pid()";
                return (int)(await command.ExecuteScalarAsync(ct))!;
            }, CancellationToken.None);
        }
        catch (DatabaseException)
        {
            // Reported as "next call failed" below.
        }

        return new Trial(error, timeToError, gone, nextPid is not null, next.Elapsed, nextPid == pid);
    }

    private async Task<Trial> RunPlainAsync(ServerActivity activity)
    {
        var app = "chaos-hung-plain-" + Guid.NewGuid().ToString("N")[..8];
        await using var pool = CreatePool(app);
        int pid;
        await using (var first = pool.CreateCommand("SELECT pg_backend_pid()"))
        {
            pid = (int)(await first.ExecuteScalarAsync())!;
        }

        var watch = Stopwatch.StartNew();
        string error;
        try
        {
            await using var command = pool.CreateCommand(HungQuery);
            command.CommandTimeout = LimitSeconds;
            await command.ExecuteScalarAsync();
            error = "none (returned)";
        }
        catch (NpgsqlException ex)
        {
            error = ex is PostgresException pg ? $"PostgresException {pg.SqlState}" : $"NpgsqlException({ex.InnerException?.GetType().Name})";
        }

        var timeToError = watch.Elapsed;
        var gone = await activity.TimeUntilGoneAsync(app, "%pg_sleep%", TimeSpan.FromSeconds(5));
        var next = Stopwatch.StartNew();
        int? nextPid = null;
        try
        {
            await using var again = pool.CreateCommand("SELECT pg_backend_pid()");
            nextPid = (int)(await again.ExecuteScalarAsync())!;
        }
        catch (NpgsqlException)
        {
            // Reported as "next call failed" below.
        }

        return new Trial(error, timeToError, gone, nextPid is not null, next.Elapsed, nextPid == pid);
    }

    private NpgsqlDataSource CreatePool(string applicationName) => NpgsqlDataSource.Create(
        new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { ApplicationName = applicationName, MaxPoolSize = 1 }.ConnectionString);

    private static string Describe(List<Trial> trials) => string.Join(", ", trials.Select(static t => t.Error).Distinct());

    private static TimeSpan Max(List<Trial> trials, Func<Trial, TimeSpan> figure) => trials.Max(figure);

    private static string MaxGone(List<Trial> trials) => trials.Any(static t => t.GoneAfter is null)
        ? "still running after 5 s"
        : FigureTable.Milliseconds(trials.Max(static t => t.GoneAfter!.Value));

    private static string MaxNext(List<Trial> trials) => trials.All(static t => t.NextCallSucceeded)
        ? "ok, " + FigureTable.Milliseconds(trials.Max(static t => t.NextCall))
        : "failed";

    private sealed record Trial(string Error, TimeSpan TimeToError, TimeSpan? GoneAfter, bool NextCallSucceeded, TimeSpan NextCall, bool SameBackend);
}
