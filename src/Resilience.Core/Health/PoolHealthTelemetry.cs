using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Health;

/// <summary>Gauges of every live <see cref="PoolHealthMonitor"/> of one meter, observed only when a listener collects.</summary>
/// <remarks>One set of instruments per meter for all its monitors (tagged by name), so exporters never see duplicate instruments.</remarks>
internal sealed class PoolHealthTelemetry : IResilienceInstruments<PoolHealthTelemetry>
{
    public const string StatusInstrument = "resilience.pool.health.status";
    public const string UtilizationInstrument = "resilience.pool.utilization";
    public const string WaitersInstrument = "resilience.pool.waiters";

    private readonly Lock _sync = new();
    private PoolHealthMonitor[] _monitors = [];

    private PoolHealthTelemetry(Meter meter)
    {
        // Observable: the meter keeps them and calls back only while a listener collects.
        meter.CreateObservableGauge(
            StatusInstrument, () => Observe(static r => (int)r.Status), "{status}", "Pool health: 0 healthy, 1 degraded, 2 critical.");
        meter.CreateObservableGauge(
            UtilizationInstrument, () => Observe(static r => r.Utilization), "1", "Share of the pool's connections that are busy.");
        meter.CreateObservableGauge(
            WaitersInstrument, () => Observe(static r => r.Snapshot.Waiters), "{request}", "Callers waiting for a pooled connection.");
    }

    public static PoolHealthTelemetry Create(Meter meter) => new(meter);

    public void Register(PoolHealthMonitor monitor)
    {
        lock (_sync)
        {
            _monitors = [.. _monitors, monitor];
        }
    }

    public void Unregister(PoolHealthMonitor monitor)
    {
        lock (_sync)
        {
            var index = Array.IndexOf(_monitors, monitor);
            if (index < 0)
            {
                return;
            }

            var next = new PoolHealthMonitor[_monitors.Length - 1];
            Array.Copy(_monitors, 0, next, 0, index);
            Array.Copy(_monitors, index + 1, next, index, next.Length - index);
            _monitors = next;
        }
    }

    private List<Measurement<T>> Observe<T>(Func<PoolHealthReport, T> read)
        where T : struct
    {
        var monitors = Volatile.Read(ref _monitors);
        var measurements = new List<Measurement<T>>(monitors.Length);
        foreach (var monitor in monitors)
        {
            if (monitor.Current is { } report)
            {
                measurements.Add(new Measurement<T>(read(report), new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, monitor.Name)));
            }
        }

        return measurements;
    }
}
