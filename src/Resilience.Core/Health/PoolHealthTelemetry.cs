using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Health;

/// <summary>Gauges of every live <see cref="PoolHealthMonitor"/>, observed only when a listener collects.</summary>
/// <remarks>One set of instruments for all monitors (tagged by name) so exporters never see duplicate instruments.</remarks>
internal static class PoolHealthTelemetry
{
    public const string StatusInstrument = "resilience.pool.health.status";
    public const string UtilizationInstrument = "resilience.pool.utilization";
    public const string WaitersInstrument = "resilience.pool.waiters";

    private static readonly Lock Sync = new();
    private static PoolHealthMonitor[] _monitors = [];

    // Created on first registration; kept alive by these fields.
    private static readonly ObservableGauge<int> StatusGauge = ResilienceTelemetry.Meter.CreateObservableGauge(
        StatusInstrument, static () => Observe(static r => (int)r.Status), "{status}", "Pool health: 0 healthy, 1 degraded, 2 critical.");

    private static readonly ObservableGauge<double> UtilizationGauge = ResilienceTelemetry.Meter.CreateObservableGauge(
        UtilizationInstrument, static () => Observe(static r => r.Utilization), "1", "Share of the pool's connections that are busy.");

    private static readonly ObservableGauge<int> WaitersGauge = ResilienceTelemetry.Meter.CreateObservableGauge(
        WaitersInstrument, static () => Observe(static r => r.Snapshot.Waiters), "{request}", "Callers waiting for a pooled connection.");

    public static void Register(PoolHealthMonitor monitor)
    {
        _ = StatusGauge;
        _ = UtilizationGauge;
        _ = WaitersGauge;
        lock (Sync)
        {
            _monitors = [.. _monitors, monitor];
        }
    }

    public static void Unregister(PoolHealthMonitor monitor)
    {
        lock (Sync)
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

    private static List<Measurement<T>> Observe<T>(Func<PoolHealthReport, T> read)
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
