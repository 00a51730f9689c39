using Resilience.Testing;
using System.Diagnostics.Metrics;
using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Resilience.Http.Tests.Telemetry;

public sealed class HttpTelemetryTests
{
    [Fact]
    public void EventIds_InAdapterRange_Unique()
    {
        var ids = typeof(HttpResilienceEventIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (int)f.GetRawConstantValue()!)
            .ToList();

        Assert.NotEmpty(ids);
        Assert.All(ids, id => Assert.InRange(id, 3000, 3099));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void StaleResponseServed_Logged_WithStableIdAndLogSafeUri()
    {
        var logger = new CapturingLogger();

        HttpLog.StaleResponseServed(logger, "llm", LogSafeUri.Render(new Uri("https://api.test/v1/x?key=secret")), 42, "503");

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(HttpResilienceEventIds.StaleResponseServed, entry.EventId.Id);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal("HTTP client llm: served a stored response for https://api.test:443/v1/x, 42 s old, because the request failed (503)", entry.Message);
    }

    [Fact]
    public void RecordHandled_WithListener_ReportsClientAuthorityAndOutcome()
    {
        var measurements = new List<(long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Resilience.Telemetry.ResilienceTelemetry.MeterName && instrument.Name == HttpResilienceTelemetry.HandledInstrument)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            if (Equals(copy.GetValueOrDefault(HttpResilienceTelemetry.ClientNameTag), "telemetry-test"))
            {
                measurements.Add((value, copy));
            }
        });
        listener.Start();

        HttpMetrics.For(null).RecordHandled("telemetry-test", "https://api.test:443", HttpResilienceOutcome.CircuitOpen);

        var (count, recorded) = Assert.Single(measurements);
        Assert.Equal(1, count);
        Assert.Equal("https://api.test:443", recorded[HttpResilienceTelemetry.AuthorityTag]);
        Assert.Equal("circuit-open", recorded[HttpResilienceTelemetry.OutcomeTag]);
    }
}
