using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.RateLimiting;

/// <summary>The rate limiter's instrument: calls it rejected.</summary>
internal static class RateLimiterTelemetry
{
    private static readonly Counter<long> Rejections = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.rate_limiter.rejections", "{call}", "Calls rejected by a rate limiter.");

    public static void RecordRejection(string name)
    {
        if (Rejections.Enabled)
        {
            Rejections.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }
}
