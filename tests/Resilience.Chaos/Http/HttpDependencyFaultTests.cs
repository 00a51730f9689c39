using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Chaos.Reporting;
using Resilience.Http;
using Resilience.Http.Testing;
using Resilience.Chaos.Http.Comparison;
using Xunit.Abstractions;

namespace Resilience.Chaos.Http;

/// <summary>
/// Scenario 4, HTTP dependency faults on an in-process fault server, ours against Microsoft's standard resilience handler
/// (both with their defaults) in the same run. Reuses the HTTP adapter tests' contenders and fault scenarios (outage amplification,
/// Retry-After beyond the deadline, POST safety, last good response, open-circuit fast-fail) and adds recovery after
/// healing, retry amplification on a degraded upstream with and without the retry budget, and a hanging upstream.
/// Retry delays and timeouts run on a virtual clock (exact virtual times), except the hang, which runs on the real one.
/// </summary>
public sealed class HttpDependencyFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Spacing = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan HangAttempt = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan HangTotal = TimeSpan.FromSeconds(2);

    private static readonly HttpContender Ours = MicrosoftStandardHandlerComparisonTests.Ours;
    private static readonly HttpContender OursNoBudget = new(
        "Resilience.Http (retry budget off)", static b => b.AddResilienceHttpHandler(static o => o.RetryBudget.Enabled = false), Ours.ForceOpenAsync);
    private static readonly HttpContender OursCached = MicrosoftStandardHandlerComparisonTests.OursCached;
    private static readonly HttpContender Microsoft = MicrosoftStandardHandlerComparisonTests.MicrosoftStandard;

    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task HttpFaults_OursAndMicrosoftStandard_SameRun()
    {
        HttpContender[] contenders = [Ours, OursNoBudget, OursCached, Microsoft];
        var outageCalls = ChaosRun.Repetitions(200);
        var heal = await EachAsync(contenders, run => HttpChaosScenarios.OutageThenHealAsync(run, _server, outageCalls, ChaosRun.Repetitions(400), Spacing));
        var degraded = await EachAsync(contenders, run => HttpChaosScenarios.DegradedUpstreamAsync(run, _server, ChaosRun.Repetitions(300), Spacing));
        var retryAfter = await EachAsync(contenders, run => HttpFaultScenarios.RetryAfterBeyondDeadlineAsync(run, _server, 40));
        var post = await EachAsync(contenders, run => HttpFaultScenarios.PostSafetyAsync(run, _server));
        var lastGood = await EachAsync(contenders, run => HttpFaultScenarios.LastGoodResponseAsync(run, _server));
        var fastFail = await FastFailAsync(contenders);
        var hangOurs = await HttpChaosScenarios.HangAsync(static b => b.AddResilienceHttpHandler(static o => { o.AttemptTimeout = HangAttempt; o.TotalTimeout = HangTotal; }), _server);
        var hangMicrosoft = await HttpChaosScenarios.HangAsync(static b => b.AddStandardResilienceHandler(static o =>
        {
            o.AttemptTimeout.Timeout = HangAttempt;
            o.TotalRequestTimeout.Timeout = HangTotal;
        }), _server);

        var table = new FigureTable("Scenario 4 — HTTP dependency faults (fault server on loopback; virtual clock unless noted)", ["measurement", .. contenders.Select(static c => c.Name)]);
        table.Row(["outage: requests reaching the server in " + outageCalls + " GETs, 100 ms apart", .. heal.Select(static r => (object)r.Outage.Requests)]);
        table.Row(["outage: what the callers got", .. heal.Select(static r => (object)r.Outage.CallerGot)]);
        table.Row(["after healing: calls failed / first success / recovery to > 99 % (virtual)", .. heal.Select(static r => (object)$"{r.FailedAfterHeal} / {Seconds(r.FirstSuccessAfterHeal)} / {Seconds(r.RecoveryTime)}")]);
        table.Row(["degraded upstream (2 of 3 requests 503): requests per call / calls succeeded / virtual time", .. degraded.Select(static r => (object)$"{r.RequestsPerCall:0.00} / {r.Succeeded} of {r.Calls} / {Seconds(r.Elapsed)}")]);
        table.Row(["503 + `Retry-After: 40` (total timeout 30 s): caller waits (virtual) / got", .. retryAfter.Select(static r => (object)$"{Seconds(r.VirtualElapsed)} / {r.CallerGot}")]);
        table.Row(["POST without idempotency key, 503: requests / caller got", .. post.Select(static r => (object)$"{r.Requests} / {r.CallerGot}")]);
        table.Row(["GET ok, then outage a minute later: caller got", .. lastGood.Select(static r => (object)r.CallerGot)]);
        table.Row(["open circuit: rejection p50 / p99 (wall clock)", .. fastFail.Select(static r => (object)$"{Micros(r.P50Microseconds)} / {Micros(r.P99Microseconds)}")]);
        table.Row(["upstream hangs (attempt 0.5 s, total 2 s, real clock): caller waits / got / requests hung", Hang(hangOurs), "–", "–", Hang(hangMicrosoft)]);
        table.Print(output);

        // Ours with its defaults is column 0, Microsoft's handler the last column.
        var ms = contenders.Length - 1;
        Assert.True(heal[0].Outage.Requests <= heal[ms].Outage.Requests, "ours sent more requests to a dead upstream");
        Assert.Equal(1, post[0].Requests);
        Assert.True(retryAfter[0].VirtualElapsed <= retryAfter[ms].VirtualElapsed, "ours waited longer for a Retry-After beyond the deadline");
        Assert.Equal(0, fastFail[0].Requests);
        Assert.StartsWith("200", lastGood[2].CallerGot, StringComparison.Ordinal);

        // A breaker must not add downtime beyond its probe: recovered within one break (30 s) plus one call spacing.
        Assert.NotNull(heal[0].RecoveryTime);
        Assert.True(heal[0].RecoveryTime <= TimeSpan.FromSeconds(30) + Spacing + TimeSpan.FromSeconds(1), $"ours recovered only after {heal[0].RecoveryTime}");

        // The budget is what keeps a degraded upstream from taking three requests per call, and it holds to its own
        // arithmetic: a burst of 10, 0.1 per successful call, 1 per second of (virtual) time.
        Assert.True(degraded[0].RequestsPerCall < degraded[1].RequestsPerCall, "the retry budget did not reduce retry amplification");
        var allowed = 10 + (degraded[0].Succeeded / 10.0) + Math.Ceiling(degraded[0].Elapsed.TotalSeconds) + 1;
        Assert.True(degraded[0].Retries <= allowed, $"ours retried {degraded[0].Retries} times where the budget allows {allowed}");

        // The hang ends within the total timeout (+ 1 s of scheduling slack), with a clear answer, not an empty success.
        Assert.True(hangOurs.Elapsed <= HangTotal + TimeSpan.FromSeconds(1), $"ours waited {hangOurs.Elapsed} for a hanging upstream");
        Assert.DoesNotMatch("^2", hangOurs.Got);
    }

    private async Task<T[]> EachAsync<T>(HttpContender[] contenders, Func<HttpContenderRun, Task<T>> scenario)
    {
        var results = new T[contenders.Length];
        for (var i = 0; i < contenders.Length; i++)
        {
            await using var run = contenders[i].Start(_server);
            results[i] = await scenario(run);
        }

        return results;
    }

    private async Task<IReadOnlyList<LatencyResult>> FastFailAsync(HttpContender[] contenders)
    {
        var runs = contenders.Select(c => c.Start(_server)).ToArray();
        try
        {
            return await HttpFaultScenarios.OpenCircuitFastFailAsync(runs, _server, rounds: ChaosRun.Repetitions(10), callsPerRound: 500);
        }
        finally
        {
            foreach (var run in runs)
            {
                await run.DisposeAsync();
            }
        }
    }

    private static string Seconds(TimeSpan? value) => value is { } v ? v.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s" : "never";

    private static string Micros(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + " µs";

    private static string Hang(HangResult r) => $"{FigureTable.Milliseconds(r.Elapsed)} / {r.Got} / {r.RequestsHung}";
}
