using Xunit.Abstractions;

namespace Resilience.Chaos.Overload;

/// <summary>
/// The adaptive concurrency limit's proof: a dependency that slows down when overloaded, driven open-loop past its capacity through each
/// protection in the same run. Ours (the adaptive concurrency limit, defaults) must keep its goodput and latency where
/// no protection and a static limit set too high collapse.
/// </summary>
/// <remarks>
/// The bounded scenario (CI): 10 workers × 200 ms (C = 50/s, so the machine's CPU is not the bottleneck), 0.5× C for
/// 1 s, 2× C for 3 s, 4× C for 3 s, then 0.5× C for 2 s, after an unmeasured second at 0.5× C; about 10 s a row, three rows. The long sweep (every row,
/// 20 s a step) runs with <c>bash scripts/overload.sh</c>.
/// Why 10 × 200 ms and not 5 × 100 ms (the first sizing, unstable on this machine, 2026-12-07): with 5 workers one slot
/// is a fifth of the capacity, so the limit's band within the 1.25 tolerance held one value (6) and every cut landed on the
/// knee (5) or below it, where any scheduling delay of a loaded 2-core machine cost goodput (42/s, 38/s at 2× C); and 25–40 ms
/// of such delay is a quarter of a 100 ms service time, enough to read as overload. With 10 workers the band holds 10–12,
/// a cut from it keeps ≥ 90 %, and the same delay is an eighth of the service time.
/// </remarks>
public sealed class OverloadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private OverloadServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await OverloadServer.StartAsync(workers: 10, serviceTime: TimeSpan.FromMilliseconds(200));

        // The process's first calls pay for the JIT and the first connections (over a second on a loaded machine).
        await OverloadSweep.WarmUpAsync(_server, TimeSpan.FromSeconds(1.5));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AdaptiveLimit_TwoAndFourTimesCapacity_KeepsGoodputWhereUnprotectedCollapses()
    {
        var plan = new OverloadPlan(
        [
            new OverloadStage(OverloadPlan.Unloaded, TimeSpan.FromSeconds(1), TimeSpan.Zero),
            new OverloadStage(2, TimeSpan.FromSeconds(3), TimeSpan.Zero),
            new OverloadStage(4, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(2)),
        ]);
        OverloadContender[] contenders = [OverloadContender.None, OverloadContender.StaticTooHigh, OverloadContender.OursAdaptive];
        var rows = new List<(OverloadContender, OverloadStep[])>();
        foreach (var contender in contenders)
        {
            rows.Add((contender, await OverloadSweep.RunAsync(contender, _server, plan)));
        }

        OverloadSweep.Table("Overload: 2× and 4× capacity (bounded)", _server, rows).Print(output);

        // The unloaded latency: the median of the three rows' p50 at half capacity (none of them limits anything there).
        var unloaded = rows.Select(static r => r.Item2[0].P50).Order().ElementAt(1);
        var none = rows[0].Item2;
        var tooHigh = rows[1].Item2;
        var ours = rows[2].Item2;
        for (var i = 1; i < plan.Stages.Length; i++)
        {
            var load = plan.Stages[i].Load;
            // The baselines miss a target (else the scenario proves nothing): goodput, or latency (4 × workers in flight is 4 × the unloaded latency).
            Assert.True(MissesTarget(none[i], unloaded), $"no protection at {load}× C held the targets: the server did not collapse, the scenario proves nothing");
            Assert.True(MissesTarget(tooHigh[i], unloaded), $"the static limit 4× too high at {load}× C held the targets: the scenario proves nothing");
            Assert.True(ours[i].Goodput >= 0.9 * _server.Capacity, $"ours at {load}× C: goodput {ours[i].Goodput:0}/s, below 90 % of C = {_server.Capacity:0}/s");
            Assert.True(ours[i].P99 <= 3 * unloaded, $"ours at {load}× C: p99 {ours[i].P99.TotalMilliseconds:0} ms, above 3 × the unloaded {unloaded.TotalMilliseconds:0} ms");
        }

        Assert.True(none[^1].Goodput < 0.5 * _server.Capacity, $"no protection at 4× C kept {none[^1].Goodput:0}/s: it did not collapse");
        Assert.True(ours[^1].Recovery is { } recovery && recovery <= TimeSpan.FromSeconds(1), $"ours did not recover within 1 s of the load's drop: {ours[^1].Recovery}");
    }

    private bool MissesTarget(OverloadStep step, TimeSpan unloaded) => step.Goodput < 0.9 * _server.Capacity || step.P99 > 3 * unloaded;

    [OverloadSweepFact]
    public async Task Sweep_EveryProtection_TwentySecondsPerLoad()
    {
        var step = TimeSpan.FromSeconds(OverloadSweepFactAttribute.StepSeconds);
        var recovery = TimeSpan.FromSeconds(10);
        var plan = new OverloadPlan(
        [
            new OverloadStage(OverloadPlan.Unloaded, step, TimeSpan.Zero),
            new OverloadStage(1, step, recovery),
            new OverloadStage(2, step, recovery),
            new OverloadStage(4, step, recovery),
        ]);
        await using var server = await OverloadServer.StartAsync(OverloadSweepFactAttribute.Workers, TimeSpan.FromMilliseconds(OverloadSweepFactAttribute.ServiceMilliseconds));
        await OverloadSweep.WarmUpAsync(server, TimeSpan.FromSeconds(3));
        var rows = new List<(OverloadContender, OverloadStep[])>();
        foreach (var contender in OverloadContender.All)
        {
            rows.Add((contender, await OverloadSweep.RunAsync(contender, server, plan)));
            output.WriteLine($"{contender.Name}: done");
        }

        OverloadSweep.Table("Overload sweep: every protection, 0.5× to 4× capacity", server, rows).Print(output);
    }
}
