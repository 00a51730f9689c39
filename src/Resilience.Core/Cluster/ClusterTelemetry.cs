using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Cluster;

/// <summary>The coordination's instruments: round trips to the store and notifications received, per instance.</summary>
internal sealed class ClusterTelemetry : IResilienceInstruments<ClusterTelemetry>
{
    public const string InstanceTag = "resilience.cluster.instance";

    private readonly Counter<long> _queries;
    private readonly Counter<long> _notifications;

    private ClusterTelemetry(Meter meter)
    {
        _queries = meter.CreateCounter<long>("resilience.cluster.queries", "{query}", "Round trips to the cluster store (coordination only, never per call).");
        _notifications = meter.CreateCounter<long>("resilience.cluster.notifications", "{notification}", "Transition notifications received from other instances.");
    }

    public static ClusterTelemetry Create(Meter meter) => new(meter);

    public void Record(string instance, long queries, long notifications)
    {
        var tag = new KeyValuePair<string, object?>(InstanceTag, instance);
        if (queries > 0 && _queries.Enabled)
        {
            _queries.Add(queries, tag);
        }

        if (notifications > 0 && _notifications.Enabled)
        {
            _notifications.Add(notifications, tag);
        }
    }
}
