using System.Diagnostics;
using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Http;

/// <summary>The adapter's instruments; nothing is built or recorded while no listener is enabled.</summary>
internal static class HttpMetrics
{
    // Core's Meter instance is internal to Core; a second instance with the same name is one meter to listeners.
    private static readonly Meter Meter = new(ResilienceTelemetry.MeterName, typeof(HttpMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> Retries = Meter.CreateCounter<long>(HttpResilienceTelemetry.RetriesInstrument, "{retry}", "Retries of HTTP requests.");

    private static readonly Counter<long> Handled = Meter.CreateCounter<long>(HttpResilienceTelemetry.HandledInstrument, "{response}", "Requests that ended in a failure the resilience handler handled, by outcome.");

    private static readonly Counter<long> OpenBreakersForgotten = Meter.CreateCounter<long>(
        HttpResilienceTelemetry.OpenBreakersForgottenInstrument, "{breaker}", "Authorities forgotten while their circuit was not closed.");

    public static void RecordOpenBreakerForgotten(string clientName, string authority)
    {
        if (OpenBreakersForgotten.Enabled)
        {
            OpenBreakersForgotten.Add(
                1,
                new KeyValuePair<string, object?>(HttpResilienceTelemetry.ClientNameTag, clientName),
                new KeyValuePair<string, object?>(HttpResilienceTelemetry.AuthorityTag, authority));
        }
    }

    public static void RecordRetry(string clientName, string authority, string reason)
    {
        if (Retries.Enabled)
        {
            var tags = new TagList
            {
                { HttpResilienceTelemetry.ClientNameTag, clientName },
                { HttpResilienceTelemetry.AuthorityTag, authority },
                { ResilienceTelemetry.ReasonTag, reason },
            };
            Retries.Add(1, tags);
        }
    }

    public static void RecordHandled(string clientName, string authority, HttpResilienceOutcome outcome)
    {
        if (Handled.Enabled)
        {
            var tags = new TagList
            {
                { HttpResilienceTelemetry.ClientNameTag, clientName },
                { HttpResilienceTelemetry.AuthorityTag, authority },
                { HttpResilienceTelemetry.OutcomeTag, HttpResilienceOutcomeNames.ToName(outcome) },
            };
            Handled.Add(1, tags);
        }
    }
}
