using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.AdaptiveThrottling;

/// <summary>Adaptive throttling's counter, once per meter.</summary>
internal sealed class AdaptiveThrottlingTelemetry : IResilienceInstruments<AdaptiveThrottlingTelemetry>
{
    private readonly Counter<long> _rejections;

    private AdaptiveThrottlingTelemetry(Meter meter)
    {
        _rejections = meter.CreateCounter<long>(
            "resilience.adaptive_throttling.rejections", "{request}", "Requests refused locally because the dependency accepted too few of the recent ones.");
    }

    public static AdaptiveThrottlingTelemetry Create(Meter meter) => new(meter);

    public void RecordRejection(string name)
    {
        if (_rejections.Enabled)
        {
            _rejections.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }
}
