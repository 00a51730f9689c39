using System.Diagnostics;
using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.FaultInjection;

/// <summary>The fault injection's metric, on the shared <c>Resilience</c> meter: how many faults of each kind were injected, per pipeline.</summary>
internal sealed class FaultInjectionTelemetry : IResilienceInstruments<FaultInjectionTelemetry>
{
    /// <summary>The tag naming the injected fault: <c>exception</c>, <c>latency</c> or <c>result</c>.</summary>
    public const string FaultTag = "resilience.fault";

    private readonly Counter<long> _injected;

    private FaultInjectionTelemetry(Meter meter)
    {
        _injected = meter.CreateCounter<long>(
            "resilience.fault_injection.injected", "{fault}", "Faults injected in place of (or before) an attempt.");
    }

    public static FaultInjectionTelemetry Create(Meter meter) => new(meter);

    public void RecordInjected(string name, string fault)
    {
        if (_injected.Enabled)
        {
            var tags = new TagList
            {
                { ResilienceTelemetry.NameTag, name },
                { FaultTag, fault },
            };
            _injected.Add(1, tags);
        }
    }
}
