using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Resilience.Telemetry;

namespace Resilience.Http;

/// <summary>The adapter's instruments, one set per meter; nothing is built or recorded while no listener is enabled.</summary>
internal sealed class HttpMetrics
{
    // Core's Meter instance is internal to Core; a second instance with the same name is one meter to listeners.
    private static readonly HttpMetrics Static = new(new Meter(ResilienceTelemetry.MeterName, Version));
    private static readonly ConditionalWeakTable<Meter, HttpMetrics> ByMeter = [];

    private readonly Counter<long> _retries;
    private readonly Counter<long> _handled;
    private readonly Counter<long> _openBreakersForgotten;

    private HttpMetrics(Meter meter)
    {
        _retries = meter.CreateCounter<long>(HttpResilienceTelemetry.RetriesInstrument, "{retry}", "Retries of HTTP requests.");
        _handled = meter.CreateCounter<long>(HttpResilienceTelemetry.HandledInstrument, "{response}", "Requests that ended in a failure the resilience handler handled, by outcome.");
        _openBreakersForgotten = meter.CreateCounter<long>(
            HttpResilienceTelemetry.OpenBreakersForgottenInstrument, "{breaker}", "Authorities forgotten while their circuit was not closed.");
    }

    private static string? Version => typeof(HttpMetrics).Assembly.GetName().Version?.ToString();

    /// <summary>The instruments on the meter of <paramref name="factory"/> (DI's), or on the static meter when <see langword="null"/>.</summary>
    public static HttpMetrics For(IMeterFactory? factory) =>
        factory is null
            ? Static
            : ByMeter.GetValue(factory.Create(new MeterOptions(ResilienceTelemetry.MeterName) { Version = Version }), static meter => new HttpMetrics(meter));

    public void RecordOpenBreakerForgotten(string clientName, string authority)
    {
        if (_openBreakersForgotten.Enabled)
        {
            _openBreakersForgotten.Add(
                1,
                new KeyValuePair<string, object?>(HttpResilienceTelemetry.ClientNameTag, clientName),
                new KeyValuePair<string, object?>(HttpResilienceTelemetry.AuthorityTag, authority));
        }
    }

    public void RecordRetry(string clientName, string authority, string reason)
    {
        if (_retries.Enabled)
        {
            var tags = new TagList
            {
                { HttpResilienceTelemetry.ClientNameTag, clientName },
                { HttpResilienceTelemetry.AuthorityTag, authority },
                { ResilienceTelemetry.ReasonTag, reason },
            };
            _retries.Add(1, tags);
        }
    }

    public void RecordHandled(string clientName, string authority, HttpResilienceOutcome outcome)
    {
        if (_handled.Enabled)
        {
            var tags = new TagList
            {
                { HttpResilienceTelemetry.ClientNameTag, clientName },
                { HttpResilienceTelemetry.AuthorityTag, authority },
                { HttpResilienceTelemetry.OutcomeTag, HttpResilienceOutcomeNames.ToName(outcome) },
            };
            _handled.Add(1, tags);
        }
    }
}
