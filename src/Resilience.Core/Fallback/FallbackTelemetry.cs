using System.Diagnostics;
using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Fallback;

/// <summary>The fallback's instrument: fallbacks served, tagged stale or static.</summary>
internal static class FallbackTelemetry
{
    private static readonly Counter<long> Served = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.fallback.served", "{value}", "Fallback values served in place of a failed call.");

    public static void RecordServed(string name, string kind)
    {
        if (Served.Enabled)
        {
            var tags = new TagList
            {
                { ResilienceTelemetry.NameTag, name },
                { ResilienceTelemetry.FallbackKindTag, kind },
            };
            Served.Add(1, tags);
        }
    }
}
