using System.Diagnostics;
using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.FaultInjection;

/// <summary>The fault injection's metric, on the shared <c>Resilience</c> meter: how many faults of each kind were injected, per pipeline.</summary>
internal static class FaultInjectionTelemetry
{
    /// <summary>The tag naming the injected fault: <c>exception</c>, <c>latency</c> or <c>result</c>.</summary>
    public const string FaultTag = "resilience.fault";

    private static readonly Counter<long> Injected = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.fault_injection.injected", "{fault}", "Faults injected in place of (or before) an attempt.");

    public static void RecordInjected(string name, string fault)
    {
        if (Injected.Enabled)
        {
            var tags = new TagList
            {
                { ResilienceTelemetry.NameTag, name },
                { FaultTag, fault },
            };
            Injected.Add(1, tags);
        }
    }
}
