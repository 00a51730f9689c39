using System.Globalization;
using Resilience.Chaos.Load;
using Resilience.Chaos.Reporting;

namespace Resilience.Chaos.Overload;

/// <summary>One stage of a plan: a load, in multiples of the server's capacity, for a while; then, when
/// <paramref name="Recovery"/> is above zero, half capacity for that long (recovery is timed) and the server's leftover
/// queue dropped, so the next stage starts on an empty server.</summary>
internal readonly record struct OverloadStage(double Load, TimeSpan Duration, TimeSpan Recovery);

/// <summary>How a contender is driven: its stages, in order, on one client (the protection's state carries over).</summary>
internal sealed record OverloadPlan(OverloadStage[] Stages)
{
    public const double Unloaded = 0.5;
}

/// <summary>What callers got during one load step.</summary>
/// <param name="Load">The offered load, in multiples of capacity.</param>
/// <param name="Goodput">Replies within the deadline, per second.</param>
/// <param name="P50">The median latency of those replies.</param>
/// <param name="P99">The 99th percentile latency of those replies.</param>
/// <param name="Work">The server's work on the step's requests, and how much of it was late.</param>
/// <param name="Recovery">The time to full goodput after the load dropped back to half capacity; <see langword="null"/> when not reached within the phase; zero when the step had no recovery phase.</param>
/// <param name="RecoveryPhase">The length of the recovery phase (zero: none).</param>
internal sealed record OverloadStep(double Load, double Goodput, TimeSpan P50, TimeSpan P99, OverloadServer.StepWork Work, TimeSpan? Recovery, TimeSpan RecoveryPhase);

/// <summary>Runs the plan for each contender on one server and prints the table.</summary>
internal static class OverloadSweep
{
    /// <summary>Recovery is judged over buckets this wide: at half of 50 requests a second, a dozen calls each, and all must succeed.</summary>
    private static readonly TimeSpan RecoveryBucket = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(0.5);

    private static int s_nextStep;

    public static async Task<OverloadStep[]> RunAsync(OverloadContender contender, OverloadServer server, OverloadPlan plan)
    {
        await using var driver = new OverloadDriver(contender, server);
        var measured = new List<(OverloadStage Stage, int Id, TimeSpan Begun, OverloadCall[] Calls, TimeSpan? Recovery)>();

        // Unmeasured: connections opened and code jitted, at half capacity.
        await driver.RunAsync(0, OverloadPlan.Unloaded * server.Capacity, WarmUp);
        foreach (var stage in plan.Stages)
        {
            var id = Interlocked.Increment(ref s_nextStep);
            var begun = driver.Now;
            var calls = await driver.RunAsync(id, stage.Load * server.Capacity, stage.Duration);
            TimeSpan? recovery = TimeSpan.Zero;
            if (stage.Recovery > TimeSpan.Zero)
            {
                var dropped = driver.Now;
                var after = await driver.RunAsync(Interlocked.Increment(ref s_nextStep), OverloadPlan.Unloaded * server.Capacity, stage.Recovery);
                recovery = RecoveryTime.Compute(after.Select(static c => (c.Ended, c.Good)), dropped, RecoveryBucket);
                await server.FlushAsync();
            }

            measured.Add((stage, id, begun, calls, recovery));
        }

        // The server's work on a step's requests is counted once nothing of it is left queued.
        await server.FlushAsync();
        return [.. measured.Select(m => Summarize(m.Stage.Load, m.Begun, m.Calls, m.Stage.Duration, server.WorkOf(m.Id), m.Recovery, m.Stage.Recovery))];
    }

    /// <summary>Calls the server through a bare client at half capacity for <paramref name="duration"/>, measuring nothing.</summary>
    public static async Task WarmUpAsync(OverloadServer server, TimeSpan duration)
    {
        await using var driver = new OverloadDriver(OverloadContender.None, server);
        await driver.RunAsync(0, OverloadPlan.Unloaded * server.Capacity, duration);
        await server.FlushAsync();
    }

    // Goodput counts the step's replies that reached their callers within the step (a conservative figure: the first
    // service time of a step has no replies yet, and the replies after its end are left out).
    public static OverloadStep Summarize(double load, TimeSpan begun, OverloadCall[] calls, TimeSpan duration, OverloadServer.StepWork work, TimeSpan? recovery, TimeSpan phase)
    {
        var end = begun + duration;
        var good = calls.Where(c => c.Good && c.Ended <= end).Select(static c => c.Latency).ToArray();
        return new OverloadStep(load, good.Length / duration.TotalSeconds, Percentiles.Of(good, 50), Percentiles.Of(good, 99), work, recovery, phase);
    }

    public static FigureTable Table(string title, OverloadServer server, IReadOnlyList<(OverloadContender Contender, OverloadStep[] Steps)> rows)
    {
        var table = new FigureTable(title, "protection", "load", "goodput /s", "% of C", "p50", "p99", "server work wasted", "recovery at 0.5× C");
        foreach (var (contender, steps) in rows)
        {
            foreach (var step in steps)
            {
                table.Row(
                    contender.Name,
                    step.Load.ToString("0.#", CultureInfo.InvariantCulture) + "× C",
                    step.Goodput.ToString("0", CultureInfo.InvariantCulture),
                    (step.Goodput / server.Capacity).ToString("0%", CultureInfo.InvariantCulture),
                    step.Goodput == 0 ? null : step.P50,
                    step.Goodput == 0 ? null : step.P99,
                    step.Work.Requests == 0 ? "0" : step.Work.WastedShare.ToString("0%", CultureInfo.InvariantCulture) + $" of {step.Work.Requests}",
                    step.RecoveryPhase == TimeSpan.Zero ? null : step.Recovery is { } r ? FigureTable.Milliseconds(r) : $"> {step.RecoveryPhase.TotalSeconds:0} s");
            }
        }

        return table.Note(
            $"Server: {server.Workers} workers × {FigureTable.Milliseconds(server.ServiceTime)} each (capacity C = {server.Capacity:0} requests/s), an unbounded FIFO queue, "
            + $"no cancellation. Open-loop arrivals; every caller's deadline {OverloadDriver.Deadline.TotalSeconds:0} s. Goodput: replies within the deadline "
            + "per second; p50/p99 over those replies. Server work wasted: requests the server finished after their caller's deadline, "
            + "of all it worked for the step. Recovery: from the drop back to 0.5× C until every 250 ms bucket of replies is on time.");
    }
}
