using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>
/// Paced request traffic through several stacks at once while the server is down for a long time: how fast callers
/// fail once each stack has given up on the database, and how many connections the database's address receives.
/// </summary>
/// <remarks>Each stack connects through its own <see cref="CountingProxy"/>; the stacks share the one outage.</remarks>
internal static class LongOutageRun
{
    public static async Task<IReadOnlyList<LongOutageOutcome>> RunAsync(
        PostgresServer server,
        IReadOnlyList<(IWriteStack Stack, CountingProxy Proxy)> stacks,
        string adminConnectionString,
        TimeSpan outage,
        TimeSpan pace,
        int writers,
        TimeSpan recoveryLimit)
    {
        using var stop = new CancellationTokenSource();
        var loads = new List<(WriteLoad Load, Task<LoadResult> Run)>();
        string table;
        await using (var admin = global::Npgsql.NpgsqlDataSource.Create(adminConnectionString))
        {
            table = await WriteCheck.CreateTableAsync(admin, "outage");
        }

        foreach (var (stack, _) in stacks)
        {
            var load = new WriteLoad(writers, int.MaxValue, pace);
            loads.Add((load, load.RunAsync(stack, table, stop.Token)));
        }

        // Warm: every stack has written successfully before the server goes away.
        await Task.WhenAll(loads.Select(l => l.Load.WhenCompletedAsync(writers * 20)));
        await server.PauseAsync();
        var down = loads.Select(l => l.Load.Now).ToArray();
        var connectionsBefore = stacks.Select(s => s.Proxy.Connections).ToArray();

        // The outage's length is the fault itself: real time, since the real server is down for it.
        await Task.Delay(outage);
        var connectionsDuring = stacks.Select((s, i) => s.Proxy.Connections - connectionsBefore[i]).ToArray();
        var up = loads.Select(l => l.Load.Now).ToArray();
        await server.ResumeAsync();

        // Let every stack prove it writes again; bounded, so a stack that never recovers shows as such instead of hanging.
        var recovered = Task.WhenAll(loads.Select(l => l.Load.WhenAcknowledgedAsync(l.Load.Acknowledged + (writers * 20))));
        await Task.WhenAny(recovered, Task.Delay(recoveryLimit));
        await stop.CancelAsync();
        var results = await Task.WhenAll(loads.Select(l => l.Run));

        var outcomes = new List<LongOutageOutcome>();
        for (var i = 0; i < stacks.Count; i++)
        {
            outcomes.Add(LongOutageOutcome.From(results[i], down[i], up[i], connectionsDuring[i]));
        }

        return outcomes;
    }
}

/// <summary>What one stack did during a long outage.</summary>
internal sealed record LongOutageOutcome(
    string Stack,
    int CallsDuringOutage,
    int FailedDuringOutage,
    TimeSpan? FirstFastRejection,
    TimeSpan? SteadyP50,
    TimeSpan? SteadyP99,
    int ConnectionAttempts,
    TimeSpan? FirstSuccessAfterUp)
{
    /// <summary>Summarizes <paramref name="result"/>: steady state is the second half of the outage.</summary>
    public static LongOutageOutcome From(LoadResult result, TimeSpan down, TimeSpan up, int connections)
    {
        var during = result.Calls.Where(c => c.Started >= down && c.Started < up).ToList();
        var steadyFrom = down + ((up - down) / 2);
        var steady = during.Where(c => c.Started >= steadyFrom && !c.Acknowledged).ToList();
        var firstRejection = during.Where(c => c.Rejected).Select(c => (TimeSpan?)(c.Started - down)).Min();
        var firstSuccess = result.Calls.Where(c => c.Acknowledged && c.Started >= up).Select(c => (TimeSpan?)(c.Started + c.Latency - up)).Min();
        return new LongOutageOutcome(
            result.Stack,
            during.Count,
            during.Count(c => !c.Acknowledged),
            firstRejection,
            LoadResult.Percentile(steady, 50),
            LoadResult.Percentile(steady, 99),
            connections,
            firstSuccess);
    }

    public override string ToString() =>
        $"{Stack,-12} calls {CallsDuringOutage,5}, failed {FailedDuringOutage,5}, first fast rejection {Ms(FirstFastRejection)}, " +
        $"steady-state failure p50 {Ms(SteadyP50)} / p99 {Ms(SteadyP99)}, connection attempts {ConnectionAttempts}, first success after restart {Ms(FirstSuccessAfterUp)}";

    private static string Ms(TimeSpan? value) => value is { } v ? $"{v.TotalMilliseconds:F1} ms" : "-";
}
