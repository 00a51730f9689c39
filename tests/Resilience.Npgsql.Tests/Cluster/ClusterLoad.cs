using System.Diagnostics;
using Resilience.CircuitBreaking;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>One instance's callers: a steady stream of calls to a provider through the instance's breaker.</summary>
internal sealed class ClusterCaller(CircuitBreaker breaker, Uri provider)
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly List<double> _latenciesMs = [];

    public CircuitBreaker Breaker { get; } = breaker;

    public Uri Provider { get; set; } = provider;

    public int Sent { get; private set; }

    public int Refused { get; private set; }

    /// <summary>Gets the calls a breaker that was not closed let through: its probes.</summary>
    public int Probes { get; private set; }

    /// <summary>Gets the longest a breaker took to admit or refuse a call (the only part of a call coordination could slow).</summary>
    public TimeSpan SlowestAdmission { get; private set; }

    /// <summary>Gets how long each call took, admission and HTTP exchange (milliseconds).</summary>
    public IReadOnlyList<double> LatenciesMs => _latenciesMs;

    /// <summary>Calls every <paramref name="interval"/> until <paramref name="until"/> says stop; <paramref name="afterCall"/> sees each outcome.</summary>
    public async Task RunAsync(TimeSpan interval, Func<bool> until, Action<ClusterCaller>? afterCall = null)
    {
        using var timer = new PeriodicTimer(interval);
        while (!until() && await timer.WaitForNextTickAsync())
        {
            await CallAsync();
            afterCall?.Invoke(this);
        }
    }

    public void Reset()
    {
        Sent = Refused = Probes = 0;
        SlowestAdmission = TimeSpan.Zero;
        _latenciesMs.Clear();
    }

    private async Task CallAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var wasClosed = Breaker.State == CircuitState.Closed;
        var admitted = Breaker.TryAcquire(out var permit);
        var admission = Stopwatch.GetElapsedTime(started);
        SlowestAdmission = admission > SlowestAdmission ? admission : SlowestAdmission;
        if (!admitted)
        {
            Refused++;
            _latenciesMs.Add(admission.TotalMilliseconds);
            return;
        }

        Sent++;
        Probes += wasClosed ? 0 : 1;
        try
        {
            using var response = await Client.GetAsync(Provider);
            if (response.IsSuccessStatusCode)
            {
                permit.Succeeded();
            }
            else
            {
                permit.Failed();
            }
        }
        catch (HttpRequestException)
        {
            permit.Failed(); // refused: the provider is unreachable from here
        }

        _latenciesMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}

/// <summary>Runs several instances' callers side by side.</summary>
internal static class ClusterLoad
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    public static Task RunAsync(IReadOnlyList<ClusterCaller> callers, TimeSpan duration, Action<ClusterCaller>? afterCall = null)
    {
        var run = Stopwatch.StartNew();
        return RunUntilAsync(callers, () => run.Elapsed >= duration, afterCall);
    }

    public static Task RunUntilAsync(IReadOnlyList<ClusterCaller> callers, Func<bool> stop, Action<ClusterCaller>? afterCall = null)
    {
        var tasks = new Task[callers.Count];
        for (var i = 0; i < callers.Count; i++)
        {
            tasks[i] = callers[i].RunAsync(Interval, stop, afterCall);
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>Checks <paramref name="condition"/> every 10 ms until it holds; fails past <paramref name="bound"/>.</summary>
    /// <returns>How long it took.</returns>
    public static async Task<TimeSpan> UntilAsync(Func<bool> condition, TimeSpan bound, string what)
    {
        var waited = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (!condition())
        {
            Assert.True(waited.Elapsed < bound, $"{what}: not within {bound.TotalSeconds} s");
            await timer.WaitForNextTickAsync();
        }

        return waited.Elapsed;
    }

    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }
}
