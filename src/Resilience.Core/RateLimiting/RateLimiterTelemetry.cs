using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.RateLimiting;

/// <summary>The rate limiter's instrument: calls it rejected.</summary>
internal sealed class RateLimiterTelemetry : IResilienceInstruments<RateLimiterTelemetry>
{
    private readonly Counter<long> _rejections;

    private RateLimiterTelemetry(Meter meter)
    {
        _rejections = meter.CreateCounter<long>(
            "resilience.rate_limiter.rejections", "{call}", "Calls rejected by a rate limiter.");
    }

    public static RateLimiterTelemetry Create(Meter meter) => new(meter);

    public void RecordRejection(string name)
    {
        if (_rejections.Enabled)
        {
            _rejections.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }
}
