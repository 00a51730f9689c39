using Npgsql;
using Resilience.Chaos.Load;
using Resilience.Failures;
using Resilience.Npgsql;
using Resilience.Npgsql.Tests.Faults;
using Resilience.Npgsql.Tests.Infrastructure;
using Resilience.Testing;

namespace Resilience.Chaos.Database.Faults;

/// <summary>How calls arrive: each writer's next call when its last ended, or at a fixed rate whatever the database does.</summary>
internal enum Driver
{
    ClosedLoop,
    OpenLoop,
}

/// <summary>How the stacks reach the server: directly, through a proxy that can lose replies, or one that counts connections.</summary>
internal enum Route
{
    Direct,
    LostReplies,
    Counted,
}

/// <summary>
/// One fault against four writers at once — the usual stack and ours, each on a plain and on an idempotency-keyed table —
/// all sharing one application name, so every fault hits all four alike. Afterwards the rows are counted.
/// </summary>
internal static class FaultRound
{
    public const int ClosedLoopWriters = 8;
    /// <summary>
    /// Writes per second per stack in the open loop. Four stacks, their proxies and the load share the test's two cores; at
    /// 200/s (and at 100/s) a CI machine under load ran out of CPU in the lost-replies round: latency rose past what 40
    /// connections carry at that rate, the pool's wait queue grew without end, and the stacks with more round trips per write
    /// failed for the rest of the run. At 50/s every stack keeps headroom on a loaded machine (checked with a busy loop on one
    /// core beside the run), so the round measures the fault, not the machine. Overload is its own subject (Overload/).
    /// </summary>
    public const int OpenLoopRate = 50;

    /// <summary>The rate, in calls per second, that the faults' schedules (in completed calls) were written for.</summary>
    private const int ScheduledRate = 200;

    /// <summary>Per stack, so four stacks (and the fault's admin connections) fit in the server's 200 connections while open-loop calls pile up.</summary>
    public const int PoolSize = 40;

    /// <summary>Closed-loop writers still pause this long between calls, so a stack failing in microseconds cannot flood memory with records.</summary>
    private static readonly TimeSpan ClosedLoopPace = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan RecoveryBucket = TimeSpan.FromMilliseconds(250);

    /// <summary>Runs the round: starts the loads, injects the fault (given a wait for the first load's completed calls), keeps the load on for <paramref name="after"/>, then counts rows.</summary>
    /// <param name="stacks">Which writers run: both stacks (the default), or ours or the usual one alone with the server.</param>
    public static async Task<IReadOnlyList<RoundOutcome>> RunAsync(
        PostgresServer server, string fault, Driver driver, Route route, TimeSpan after, Func<FaultContext, Task> inject, RoundStacks stacks = RoundStacks.Both)
    {
        var app = "chaos-fault-" + Guid.NewGuid().ToString("N")[..8];
        var direct = new NpgsqlConnectionStringBuilder(server.ConnectionString) { ApplicationName = app, MaxPoolSize = PoolSize }.ConnectionString;
        var contestants = new List<Contestant>();
        await using var admin = NpgsqlDataSource.Create(server.ConnectionString);
        try
        {
            foreach (var ours in stacks switch { RoundStacks.Ours => [true], RoundStacks.Usual => [false], _ => (bool[])[false, true] })
            {
                contestants.Add(await Contestant.CreateAsync(admin, direct, route, keyed: false, ours));
                contestants.Add(await Contestant.CreateAsync(admin, direct, route, keyed: true, ours));
            }

            var loads = contestants.ConvertAll(_ => LoadOf(driver));
            using var stop = new CancellationTokenSource();
            var runs = contestants.Select((c, i) => loads[i].Run(c.Stack, c.Table, stop.Token)).ToArray();
            var context = new FaultContext(app, loads[0].WhenCompleted, contestants, () => loads.ConvertAll(static l => l.Now()));
            await inject(context);
            var faultEnd = loads.ConvertAll(static l => l.Now());
            stop.CancelAfter(after);
            var results = await Task.WhenAll(runs);

            // A fresh pool: the fault may have broken every pooled connection of the admin one.
            await using var counter = NpgsqlDataSource.Create(server.ConnectionString);
            var outcomes = new List<RoundOutcome>();
            for (var i = 0; i < contestants.Count; i++)
            {
                var c = contestants[i];
                var verdict = await WriteCheck.VerifyAsync(counter, c.Table, results[i]);
                var recovery = RecoveryTime.Compute(results[i].Calls.Select(static r => (r.Started + r.Latency, r.Acknowledged)), faultEnd[i], RecoveryBucket);
                outcomes.Add(new RoundOutcome(fault, driver, c.Label, c.Keyed, c.Ours, results[i], verdict, recovery, context.Marks(i), c.Connections, c.LostReplies));
            }

            return outcomes;
        }
        finally
        {
            foreach (var c in contestants)
            {
                await c.DisposeAsync();
            }
        }
    }

    private static LoadDriver LoadOf(Driver driver)
    {
        if (driver == Driver.ClosedLoop)
        {
            var closed = new WriteLoad(ClosedLoopWriters, int.MaxValue, ClosedLoopPace);
            return new LoadDriver(() => closed.Now, closed.WhenCompletedAsync, closed.RunAsync);
        }

        var open = new OpenLoopLoad(OpenLoopRate, ClosedLoopWriters);
        // The faults' schedules count calls at the pace they were written for (200 calls/s); the open loop reaches the same
        // moments after proportionally fewer calls, so its rounds keep their length in seconds.
        return new LoadDriver(() => open.Now, calls => open.WhenCompletedAsync(calls * OpenLoopRate / ScheduledRate), open.RunAsync);
    }

    /// <summary>Either load, seen the same way.</summary>
    private sealed record LoadDriver(Func<TimeSpan> Now, Func<int, Task> WhenCompleted, Func<IWriteStack, string, CancellationToken, Task<LoadResult>> Run);
}

/// <summary>What a fault can see and touch: the application name, the first load's progress, the contestants' proxies, the loads' clocks.</summary>
internal sealed class FaultContext(string applicationName, Func<int, Task> whenCompleted, IReadOnlyList<Contestant> contestants, Func<List<TimeSpan>> now)
{
    private readonly List<(string Name, List<TimeSpan> At, int[] Connections)> _marks = [];

    /// <summary>An idle load: the database faults fire when a load reached a count of calls, and this one is always there.</summary>
    public static WriteLoad Idle { get; } = new(0, 0);

    public string ApplicationName { get; } = applicationName;

    public IReadOnlyList<Contestant> Contestants { get; } = contestants;

    /// <summary>Completes once the first load has completed <paramref name="calls"/> calls.</summary>
    public Task WhenCompletedAsync(int calls) => whenCompleted(calls);

    /// <summary>Records a moment (on every load's clock) and every contestant's connection count, e.g. "down" and "up".</summary>
    public void Mark(string name) => _marks.Add((name, now(), Contestants.Select(static c => c.Connections ?? 0).ToArray()));

    /// <summary>The marks of contestant <paramref name="index"/>: moment on its load's clock and its connection count then.</summary>
    public IReadOnlyDictionary<string, (TimeSpan At, int Connections)> Marks(int index) =>
        _marks.ToDictionary(static m => m.Name, m => (m.At[index], m.Connections[index]));
}

/// <summary>One stack writing to one table, possibly through a proxy.</summary>
internal sealed class Contestant : IAsyncDisposable
{
    private readonly LostReplyProxy? _lostReplies;
    private readonly CountingProxy? _counted;

    private Contestant(IWriteStack stack, string table, bool keyed, bool ours, LostReplyProxy? lostReplies, CountingProxy? counted, string? marker)
    {
        Stack = stack;
        Table = table;
        Keyed = keyed;
        Ours = ours;
        _lostReplies = lostReplies;
        _counted = counted;

        // The message whose reply, once lost, leaves the write's outcome unknown.
        LostReplyMarker = marker;
    }

    public IWriteStack Stack { get; }

    public string Table { get; }

    public bool Keyed { get; }

    public bool Ours { get; }

    public string Label => (Ours ? "ours" : "usual") + (Keyed ? ", keyed table" : ", plain table");

    public string? LostReplyMarker { get; }

    public int? Connections => _counted?.Connections;

    public static async Task<Contestant> CreateAsync(NpgsqlDataSource admin, string connectionString, Route route, bool keyed, bool ours)
    {
        var table = keyed ? await KeyedTable.CreateAsync(admin) : await WriteCheck.CreateTableAsync(admin, "plain");
        LostReplyProxy? lost = route == Route.LostReplies ? new LostReplyProxy(connectionString) : null;
        CountingProxy? counted = route == Route.Counted ? new CountingProxy(connectionString) : null;
        var through = lost?.ConnectionString ?? counted?.ConnectionString ?? connectionString;
        IWriteStack stack = (keyed, ours) switch
        {
            (false, false) => new UsualStack(through, "usual"),
            (true, false) => new KeyedUsualStack(through),
            (false, true) => new ResilientStack(through),
            (true, true) => new KeyedResilientStack(through),
        };
        // The message that commits: a non-idempotent write of ours runs in a transaction and commits explicitly; the usual stack
        // and ours for an idempotent call (one round trip) autocommit the INSERT itself.
        return new Contestant(stack, table, keyed, ours, lost, counted, ours && !keyed ? LostReplyProxy.Commit : "INSERT INTO " + table);
    }

    /// <summary>Arms this contestant's proxy to lose the reply to its next committing message.</summary>
    public void LoseNextCommitReply() => _lostReplies?.LoseNextReplyTo(LostReplyMarker!);

    public int LostReplies => _lostReplies?.LostReplies ?? 0;

    public async ValueTask DisposeAsync()
    {
        await Stack.DisposeAsync();
        if (_lostReplies is not null)
        {
            await _lostReplies.DisposeAsync();
        }

        if (_counted is not null)
        {
            await _counted.DisposeAsync();
        }
    }
}

/// <summary>One contestant under one fault: its calls, its rows, its recovery.</summary>
internal sealed record RoundOutcome(
    string Fault,
    Driver Driver,
    string Contestant,
    bool Keyed,
    bool Ours,
    LoadResult Load,
    WriteVerdict Verdict,
    TimeSpan? Recovery,
    IReadOnlyDictionary<string, (TimeSpan At, int Connections)> Marks,
    int? Connections,
    int RepliesDropped)
{
    /// <summary>Gets the failures reported as "the write may or may not have happened" (ours: <c>ERR_UNKNOWN_OUTCOME</c>).</summary>
    public int UnknownOutcomes => Load.Calls.Count(static c => c.Failure is DatabaseException { FailureKind: FailureKind.UnknownOutcome });
}

/// <summary>Which stacks a <see cref="FaultRound"/> runs, each on a plain and on a keyed table.</summary>
internal enum RoundStacks
{
    /// <summary>The usual stack and ours at once, on the same fault.</summary>
    Both,

    /// <summary>Ours alone with the server.</summary>
    Ours,

    /// <summary>The usual stack alone with the server.</summary>
    Usual,
}
