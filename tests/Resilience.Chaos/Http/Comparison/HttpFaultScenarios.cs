using System.Diagnostics;
using System.Globalization;

namespace Resilience.Http.Testing;

/// <summary>
/// Faults played by a <see cref="FaultServer"/> against one <see cref="HttpContenderRun"/> at a time, each measured the
/// same way for every contender: requests that reached the server, what the caller got, and virtual time taken.
/// </summary>
/// <remarks>Every scenario sets the server's answers itself; give each scenario a fresh run so breakers start closed.</remarks>
public static class HttpFaultScenarios
{
    /// <summary>The upstream answers 503 to everything: how many requests reach it over <paramref name="calls"/> GETs, <paramref name="spacing"/> apart.</summary>
    public static async Task<ScenarioResult> OutageAmplificationAsync(HttpContenderRun run, FaultServer server, int calls, TimeSpan spacing)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(server);
        server.Reset();
        server.Default = FaultResponse.Status(503, "down");
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < calls; i++)
        {
            var result = await run.SendAsync(new HttpRequestMessage(HttpMethod.Get, "outage")).ConfigureAwait(false);
            outcomes[result.ToString()] = outcomes.GetValueOrDefault(result.ToString()) + 1;
            run.Time.Advance(spacing);
        }

        var summary = string.Join(", ", outcomes.Select(static p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} ×{p.Value}")));
        return new ScenarioResult(server.RequestCount, summary, TimeSpan.Zero);
    }

    /// <summary>The upstream answers 503 with <c>Retry-After</c> beyond the total timeout: how long the caller waits and what it gets.</summary>
    public static Task<ScenarioResult> RetryAfterBeyondDeadlineAsync(HttpContenderRun run, FaultServer server, int retryAfterSeconds) =>
        OneCallAsync(
            run,
            server,
            FaultResponse.Status(503, "busy", headers: ("Retry-After", retryAfterSeconds.ToString(CultureInfo.InvariantCulture))),
            new HttpRequestMessage(HttpMethod.Get, "busy"));

    /// <summary>A <c>POST</c> without an idempotency key meets a 503: how many times the write reaches the server.</summary>
    public static Task<ScenarioResult> PostSafetyAsync(HttpContenderRun run, FaultServer server) =>
        OneCallAsync(run, server, FaultResponse.Status(503, "down"), new HttpRequestMessage(HttpMethod.Post, "orders") { Content = new StringContent("{\"order\":1}") });

    /// <summary>One request against an upstream that always answers <paramref name="answer"/>.</summary>
    public static async Task<ScenarioResult> OneCallAsync(HttpContenderRun run, FaultServer server, FaultResponse answer, HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(server);
        server.Reset();
        server.Default = answer;
        var result = await run.SendAsync(request).ConfigureAwait(false);
        return new ScenarioResult(server.RequestCount, result.ToString(), result.VirtualElapsed);
    }

    /// <summary>A GET succeeds, then the upstream fails a minute later: whether the caller still gets the last good answer.</summary>
    public static async Task<ScenarioResult> LastGoodResponseAsync(HttpContenderRun run, FaultServer server)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(server);
        server.Reset();
        server.Default = FaultResponse.Status(503, "down");
        server.Script("/item", FaultResponse.Ok("v1"));
        await run.SendAsync(new HttpRequestMessage(HttpMethod.Get, "item")).ConfigureAwait(false);
        run.Time.Advance(TimeSpan.FromMinutes(1));
        var result = await run.SendAsync(new HttpRequestMessage(HttpMethod.Get, "item")).ConfigureAwait(false);
        var got = result.Status == 200 ? string.Create(CultureInfo.InvariantCulture, $"200 \"{result.Body}\" {HttpResilienceOutcomeNames.ToName(result.Outcome)}") : result.ToString();
        return new ScenarioResult(server.RequestCount, got, result.VirtualElapsed);
    }

    /// <summary>
    /// The circuit is forced open with each stack's manual control; then GETs are rejected without reaching the server.
    /// Rounds alternate between the runs so that machine noise hits all alike; the first round warms up and is dropped.
    /// </summary>
    /// <returns>Per run, the wall-clock latency percentiles of a rejected call, in microseconds.</returns>
    public static async Task<IReadOnlyList<LatencyResult>> OpenCircuitFastFailAsync(IReadOnlyList<HttpContenderRun> runs, FaultServer server, int rounds, int callsPerRound)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(server);
        server.Reset();
        server.Default = FaultResponse.Status(503, "down");
        var samples = new List<double>[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            samples[i] = new List<double>(rounds * callsPerRound);
            await runs[i].ForceOpenAsync(server.BaseAddress).ConfigureAwait(false);
        }

        for (var round = 0; round <= rounds; round++)
        {
            for (var i = 0; i < runs.Count; i++)
            {
                var client = runs[i].Client;
                for (var call = 0; call < callsPerRound; call++)
                {
                    var start = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await client.GetAsync("rejected").ConfigureAwait(false);
                    }
                    catch (HttpRequestException)
                    {
                        // Ours with the exception surface (HttpResilienceException is one).
                    }
                    catch (Exception e) when (e.GetType().Name.Contains("CircuitException", StringComparison.Ordinal))
                    {
                        // Polly's BrokenCircuitException / IsolatedCircuitException.
                    }

                    var elapsed = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                    if (round > 0)
                    {
                        samples[i].Add(elapsed);
                    }
                }
            }
        }

        var results = new LatencyResult[runs.Count];
        for (var i = 0; i < runs.Count; i++)
        {
            samples[i].Sort();
            results[i] = new LatencyResult(Percentile(samples[i], 0.50), Percentile(samples[i], 0.99), samples[i].Count, server.RequestCount);
        }

        return results;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * p))];
}

/// <summary>What a scenario measured for one contender.</summary>
/// <param name="Requests">Requests that reached the server.</param>
/// <param name="CallerGot">What the caller got (status and marker, or the exception type).</param>
/// <param name="VirtualElapsed">How long the (last) call took on the virtual clock.</param>
public sealed record ScenarioResult(int Requests, string CallerGot, TimeSpan VirtualElapsed);

/// <summary>Latency percentiles of rejected calls, in microseconds, and the requests that reached the server meanwhile (0 expected).</summary>
public sealed record LatencyResult(double P50Microseconds, double P99Microseconds, int Samples, int Requests);
