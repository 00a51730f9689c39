using System.Diagnostics.Metrics;
using ContentService.Status;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Telemetry;

namespace ContentService.Tests.Status;

public sealed class ResilienceMeterRecorderTests
{
    [Fact]
    public async Task GetCounters_OneDependencyOnTwoHosts_OneRowWithTheSum()
    {
        using var registry = new CircuitBreakerRegistry();
        using var recorder = new ResilienceMeterRecorder(registry, TimeProvider.System, Options.Create(new StatusPageOptions()));
        await recorder.StartAsync(CancellationToken.None);

        // The handler's pipelines are named per authority; a name of its own keeps other tests' measurements apart.
        var dependency = "llm-" + Guid.NewGuid().ToString("N")[..8];
        using var meter = new Meter(ResilienceTelemetry.MeterName);
        var retries = meter.CreateCounter<long>("resilience.retry.attempts");
        retries.Add(2, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, dependency + ":http://127.0.0.1:5001"));
        retries.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, dependency + ":http://127.0.0.1:5002"));

        var row = Assert.Single(recorder.GetCounters(), c => c.Name == dependency);
        Assert.Equal("retries", row.Metric);
        Assert.Equal(3, row.Count);
    }
}
