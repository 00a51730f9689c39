using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Timeouts;

/// <summary>The timeouts' instrument: timeouts that fired, by kind (attempt, total, deadline).</summary>
internal static class TimeoutTelemetry
{
    private static readonly Counter<long> Timeouts = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.timeout.timeouts", "{timeout}", "Timeouts that fired, by kind (attempt, total, deadline).");

    public static void RecordTimeout(string name, string kind)
    {
        if (Timeouts.Enabled)
        {
            Timeouts.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name), new KeyValuePair<string, object?>(ResilienceTelemetry.TimeoutKindTag, kind));
        }
    }
}
