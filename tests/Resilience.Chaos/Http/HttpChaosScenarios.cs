using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Chaos.Load;
using Resilience.Http;
using Resilience.Http.Testing;

namespace Resilience.Chaos.Http;

/// <summary>
/// Faults added to the HTTP adapter tests' <see cref="HttpFaultScenarios"/> (which this suite also runs): recovery after the upstream
/// heals, retry amplification on a degraded upstream, and a hanging upstream. Same contenders, same fault server.
/// </summary>
internal static class HttpChaosScenarios
{
    private static readonly TimeSpan RecoveryBucket = TimeSpan.FromSeconds(1);

    /// <summary>The upstream is down for <paramref name="outageCalls"/> GETs, then heals: requests it took while down, and how callers recover.</summary>
    public static async Task<HealResult> OutageThenHealAsync(HttpContenderRun run, FaultServer server, int outageCalls, int healedCalls, TimeSpan spacing)
    {
        var outage = await HttpFaultScenarios.OutageAmplificationAsync(run, server, outageCalls, spacing);
        server.Default = FaultResponse.Ok("healed");
        var healedAt = run.Time.GetUtcNow();
        var calls = new List<(TimeSpan Ended, bool Succeeded)>(healedCalls);
        TimeSpan? firstSuccess = null;
        for (var i = 0; i < healedCalls; i++)
        {
            var result = await run.SendAsync(new HttpRequestMessage(HttpMethod.Get, "outage"));
            var ended = run.Time.GetUtcNow() - healedAt;

            // A stale cached answer is a fallback, not a recovery.
            var succeeded = result.Status == 200 && result.Outcome == HttpResilienceOutcome.None;
            calls.Add((ended, succeeded));
            firstSuccess ??= succeeded ? ended : null;
            run.Time.Advance(spacing);
        }

        return new HealResult(outage, calls.Count(static c => !c.Succeeded), firstSuccess, RecoveryTime.Compute(calls, TimeSpan.Zero, RecoveryBucket));
    }

    /// <summary>Two requests in three fail with 503, in a fixed order: how many requests each call costs the upstream, and how many calls succeed.</summary>
    public static async Task<AmplificationResult> DegradedUpstreamAsync(HttpContenderRun run, FaultServer server, int calls, TimeSpan spacing)
    {
        server.Reset();
        server.Default = FaultResponse.Ok("ok");
        var pattern = new FaultResponse[calls * 4];
        for (var i = 0; i < pattern.Length; i++)
        {
            pattern[i] = i % 3 == 2 ? FaultResponse.Ok("ok") : FaultResponse.Status(503, "degraded");
        }

        server.Enqueue(pattern);
        var started = run.Time.GetUtcNow();
        var succeeded = 0;
        for (var i = 0; i < calls; i++)
        {
            var result = await run.SendAsync(new HttpRequestMessage(HttpMethod.Get, "degraded"));
            succeeded += result.Status == 200 ? 1 : 0;
            run.Time.Advance(spacing);
        }

        return new AmplificationResult(calls, server.RequestCount, succeeded, run.Time.GetUtcNow() - started);
    }

    /// <summary>
    /// The upstream accepts the request and never answers, on the real clock with the same limits for every stack
    /// (<paramref name="addWithLimits"/>): how long the caller waits, what it gets, how many requests hang upstream.
    /// </summary>
    public static async Task<HangResult> HangAsync(Action<IHttpClientBuilder> addWithLimits, FaultServer server)
    {
        server.Reset();
        var gate = new HangGate();
        server.Default = FaultResponse.Hang(gate);
        var services = new ServiceCollection();
        addWithLimits(services.AddHttpClient("hang", c => c.BaseAddress = server.BaseAddress));
        await using var provider = services.BuildServiceProvider();
        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("hang");
        var watch = Stopwatch.StartNew();
        string got;
        try
        {
            using var response = await client.GetAsync("hang");
            var marker = HttpResilienceResponse.GetOutcome(response);
            got = $"{(int)response.StatusCode}{(marker == HttpResilienceOutcome.None ? string.Empty : " " + marker)}";
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            got = ex.GetType().Name;
        }

        var elapsed = watch.Elapsed;
        gate.Release();
        return new HangResult(elapsed, got, gate.Entries);
    }
}

/// <summary>An outage then healing: the outage's figures, calls failed after healing, first success and recovery time (virtual).</summary>
internal sealed record HealResult(ScenarioResult Outage, int FailedAfterHeal, TimeSpan? FirstSuccessAfterHeal, TimeSpan? RecoveryTime);

/// <summary>Requests the upstream received for <see cref="Calls"/> calls, how many calls succeeded, and the virtual time it took.</summary>
internal sealed record AmplificationResult(int Calls, int Requests, int Succeeded, TimeSpan Elapsed)
{
    public double RequestsPerCall => (double)Requests / Calls;

    public int Retries => Requests - Calls;
}

/// <summary>A hanging upstream: the caller's wait (real clock), what it got, how many requests hung upstream.</summary>
internal sealed record HangResult(TimeSpan Elapsed, string Got, int RequestsHung);
