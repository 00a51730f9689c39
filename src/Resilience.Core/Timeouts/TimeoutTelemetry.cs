using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Timeouts;

/// <summary>The timeouts' instrument: timeouts that fired, by kind (attempt, total, deadline).</summary>
internal sealed class TimeoutTelemetry : IResilienceInstruments<TimeoutTelemetry>
{
    private readonly Counter<long> _timeouts;

    private TimeoutTelemetry(Meter meter)
    {
        _timeouts = meter.CreateCounter<long>(
            "resilience.timeout.timeouts", "{timeout}", "Timeouts that fired, by kind (attempt, total, deadline).");
    }

    public static TimeoutTelemetry Create(Meter meter) => new(meter);

    public void RecordTimeout(string name, string kind)
    {
        if (_timeouts.Enabled)
        {
            _timeouts.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name), new KeyValuePair<string, object?>(ResilienceTelemetry.TimeoutKindTag, kind));
        }
    }
}
