using System.Diagnostics;
using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Fallback;

/// <summary>The fallback's instrument: fallbacks served, tagged stale or static.</summary>
internal sealed class FallbackTelemetry : IResilienceInstruments<FallbackTelemetry>
{
    private readonly Counter<long> _served;

    private FallbackTelemetry(Meter meter)
    {
        _served = meter.CreateCounter<long>(
            "resilience.fallback.served", "{value}", "Fallback values served in place of a failed call.");
    }

    public static FallbackTelemetry Create(Meter meter) => new(meter);

    public void RecordServed(string name, string kind)
    {
        if (_served.Enabled)
        {
            var tags = new TagList
            {
                { ResilienceTelemetry.NameTag, name },
                { ResilienceTelemetry.FallbackKindTag, kind },
            };
            _served.Add(1, tags);
        }
    }
}
