using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Polly.CircuitBreaker;
using Resilience.Http;
using Resilience.Http.Testing;
using Xunit.Abstractions;

namespace Resilience.Chaos.Http.Comparison;

/// <summary>
/// Resilience.Http against Microsoft.Extensions.Http.Resilience's standard handler, both with their defaults, on the same
/// fault server in the same run: asserts ours is not worse on every fault and prints the table for the README.
/// </summary>
/// <remarks>
/// Run: <c>dotnet test tests/Resilience.Http.Tests -c Release --filter FullyQualifiedName~MicrosoftStandardHandlerComparison
/// --logger "console;verbosity=detailed"</c>. Retry delays and timeouts run on a virtual clock, so the virtual times are
/// exact; the fast-fail latencies are wall-clock figures of this machine and are printed, not asserted (speed targets
/// are checked by the benchmarks).
/// </remarks>
public sealed class MicrosoftStandardHandlerComparisonTests(ITestOutputHelper output) : IAsyncLifetime
{
    private FaultServer _server = null!;

    public static HttpContender Ours { get; } = new("Resilience.Http", static b => b.AddResilienceHttpHandler(), ForceOursOpenAsync);

    public static HttpContender OursException { get; } = new(
        "Resilience.Http (Exception surface)", static b => b.AddResilienceHttpHandler(o => o.FailureSurface = HttpFailureSurface.Exception), ForceOursOpenAsync);

    public static HttpContender OursCached { get; } = new(
        "Resilience.Http (CachedFallback on)", static b => b.AddResilienceHttpHandler(o => o.CachedFallback.Enabled = true), ForceOursOpenAsync);

    public static HttpContender MicrosoftStandard { get; } = new(
        "Microsoft standard handler",
        static b =>
        {
            // One control per container: each run is a fresh container with its own breaker.
            var control = new CircuitBreakerManualControl();
            b.Services.AddSingleton(control);
            b.AddStandardResilienceHandler(o => o.CircuitBreaker.ManualControl = control);
        },
        static async (sp, _, _) => await sp.GetRequiredService<CircuitBreakerManualControl>().IsolateAsync());

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task StandardHandler_SameFaultsSameRun_OursNotWorseOnAny()
    {
        HttpContender[] contenders = [Ours, OursException, OursCached, MicrosoftStandard];
        var table = new HttpComparisonTable([.. contenders.Select(static c => c.Name)]);
        var amplification = await MeasureAsync(contenders, run => HttpFaultScenarios.OutageAmplificationAsync(run, _server, 200, TimeSpan.FromMilliseconds(100)));
        var retryAfter = await MeasureAsync(contenders, run => HttpFaultScenarios.RetryAfterBeyondDeadlineAsync(run, _server, 40));
        var post = await MeasureAsync(contenders, run => HttpFaultScenarios.PostSafetyAsync(run, _server));
        var lastGood = await MeasureAsync(contenders, run => HttpFaultScenarios.LastGoodResponseAsync(run, _server));
        var fastFail = await FastFailAsync(contenders);

        table.Add("outage: requests reaching the server in 200 GETs, 100 ms apart", [.. amplification.Select(static r => Number(r.Requests))]);
        table.Add("outage: what the callers got", [.. amplification.Select(static r => r.CallerGot)]);
        table.Add("503 + `Retry-After: 40` (total timeout 30 s): caller waits (virtual)", [.. retryAfter.Select(static r => Seconds(r.VirtualElapsed))]);
        table.Add("503 + `Retry-After: 40`: requests / caller got", [.. retryAfter.Select(static r => Number(r.Requests) + " / " + r.CallerGot)]);
        table.Add("POST without idempotency key, 503: requests / caller got", [.. post.Select(static r => Number(r.Requests) + " / " + r.CallerGot)]);
        table.Add("GET ok, then outage: caller got", [.. lastGood.Select(static r => r.CallerGot)]);
        table.Add("open circuit: rejection p50 (µs, wall clock)", [.. fastFail.Select(static r => Micros(r.P50Microseconds))]);
        table.Add("open circuit: rejection p99 (µs, wall clock)", [.. fastFail.Select(static r => Micros(r.P99Microseconds))]);
        output.WriteLine(table.ToString());

        var microsoft = contenders.Length - 1;
        for (var ours = 0; ours < microsoft; ours++)
        {
            Assert.True(amplification[ours].Requests <= amplification[microsoft].Requests, $"{contenders[ours]}: outage amplification");
            Assert.True(retryAfter[ours].VirtualElapsed <= retryAfter[microsoft].VirtualElapsed, $"{contenders[ours]}: Retry-After wait");
            Assert.True(post[ours].Requests <= post[microsoft].Requests, $"{contenders[ours]}: POST sent more often");
            Assert.Equal(1, post[ours].Requests);
            Assert.Equal(0, fastFail[ours].Requests);
        }

        Assert.Equal(TimeSpan.Zero, retryAfter[0].VirtualElapsed);
        Assert.Equal("503 retry-after-exceeds-deadline", retryAfter[0].CallerGot);
        Assert.Equal("200 \"v1\" stale", lastGood[2].CallerGot);
    }

    private async Task<ScenarioResult[]> MeasureAsync(HttpContender[] contenders, Func<HttpContenderRun, Task<ScenarioResult>> scenario)
    {
        var results = new ScenarioResult[contenders.Length];
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
            return await HttpFaultScenarios.OpenCircuitFastFailAsync(runs, _server, rounds: 10, callsPerRound: 500);
        }
        finally
        {
            foreach (var run in runs)
            {
                await run.DisposeAsync();
            }
        }
    }

    private static ValueTask ForceOursOpenAsync(IServiceProvider services, string clientName, Uri authority)
    {
        services.GetRequiredService<HttpResilienceClients>().Get(clientName).GetPipelines(authority).Breaker.Isolate();
        return ValueTask.CompletedTask;
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    private static string Micros(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);
}
