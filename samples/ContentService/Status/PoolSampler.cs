using Microsoft.Extensions.Options;
using Resilience.Health;

namespace ContentService.Status;

/// <summary>
/// Samples the pool's figures every <see cref="StatusPageOptions.SampleInterval"/> into a bounded ring, for the status
/// page's utilization and wait chart. The probe's snapshot is cheap (no round trip); the monitor's report, which
/// pings, keeps its own slower schedule.
/// </summary>
internal sealed class PoolSampler(IPoolProbe probe, PoolHealthMonitor monitor, TimeProvider time, IOptions<StatusPageOptions> options)
    : BackgroundService
{
    private readonly BoundedRing<PoolSample> _samples = new(options.Value.PoolSamples);

    /// <summary>The samples, oldest first.</summary>
    public PoolSample[] GetSamples() => _samples.ToArray();

    /// <summary>Takes one sample now.</summary>
    public void Sample()
    {
        var snapshot = probe.GetSnapshot();
        _samples.Add(new PoolSample(
            time.GetUtcNow(),
            snapshot.Utilization,
            snapshot.Busy,
            snapshot.Waiters,
            snapshot.P99AcquireWait?.TotalMilliseconds,
            monitor.Status.ToString()));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SampleInterval, time);
        Sample();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Sample();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown.
        }
    }
}

/// <summary>The pool at one moment.</summary>
internal sealed record PoolSample(DateTimeOffset At, double Utilization, int Busy, int Waiters, double? P99AcquireWaitMs, string Status);
