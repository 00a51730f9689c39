using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Core.Tests.Retry;
using Resilience.Retry;
using Resilience.Telemetry;
using Resilience.Testing;
using Resilience.Timeouts;

namespace Resilience.Core.Tests.Telemetry;

public sealed class MeterFactoryTests
{
    private const string TimeoutsInstrument = "resilience.timeout.timeouts";
    private const string RetriesInstrument = "resilience.retry.attempts";
    private const string TransitionsInstrument = "resilience.circuit_breaker.transitions";
    private const string StateInstrument = "resilience.circuit_breaker.state";

    [Fact]
    public async Task AddPipeline_WithMeterFactory_ReportsOnTheContainersMeterOnly()
    {
        const string name = "meter-factory-db";
        var time = new FakeTimeProvider();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"Resilience:Pipelines:{name}:AttemptTimeout"] = "00:00:01",
            [$"Resilience:Pipelines:{name}:Retry:MaxRetries"] = "1",
            [$"Resilience:Pipelines:{name}:Retry:BaseDelay"] = "00:00:00",
            [$"Resilience:Pipelines:{name}:CircuitBreaker:FailureThreshold"] = "2",
        }).Build();
        var services = new ServiceCollection().AddMetrics().AddSingleton<TimeProvider>(time);
        services.AddResilience().AddPipeline(name, configuration.GetSection($"Resilience:Pipelines:{name}"));
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        using var container = new MeterRecorder(meter => ReferenceEquals(meter.Scope, factory));
        using var elsewhere = new MeterRecorder(meter => !ReferenceEquals(meter.Scope, factory));
        var pipeline = provider.GetRequiredKeyedService<ResiliencePipeline>(name);

        var outcome = await TimeDriver.RunAsync(time, pipeline.ExecuteOutcomeAsync(static (_, ct) => HangAsync(ct), 0, CancellationToken.None), TimeSpan.FromMilliseconds(100));
        container.RecordObservableInstruments();
        elsewhere.RecordObservableInstruments();

        Assert.IsType<OperationTimeoutException>(outcome.Exception);
        Assert.Equal(2, container.Of(TimeoutsInstrument, name).Count);
        Assert.Single(container.Of(RetriesInstrument, name));
        Assert.Contains(container.Of(TransitionsInstrument, name), m => Equals(m.Tags[ResilienceTelemetry.StateTag], "open"));
        Assert.Contains(container.Of(StateInstrument, name), m => m.Value == (int)CircuitState.Open);
        Assert.Empty(elsewhere.Named(name));
    }

    [Fact]
    public async Task Pipeline_WithoutMeterFactory_ReportsOnTheStaticMeter()
    {
        const string name = "static-meter-db";
        var time = new FakeTimeProvider();
        using var recorder = new MeterRecorder(meter => meter.Scope is null);
        var pipeline = new ResiliencePipelineBuilder(name) { TimeProvider = time }
            .AddRetry(new RetryOptions { MaxRetries = 1, BaseDelay = TimeSpan.Zero, Jitter = RetryJitter.None })
            .AddCircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 2 })
            .AddAttemptTimeout(TimeSpan.FromSeconds(1))
            .Build();

        var outcome = await TimeDriver.RunAsync(time, pipeline.ExecuteOutcomeAsync(static (_, ct) => HangAsync(ct), 0, CancellationToken.None), TimeSpan.FromMilliseconds(100));

        Assert.IsType<OperationTimeoutException>(outcome.Exception);
        Assert.Equal(2, recorder.Of(TimeoutsInstrument, name).Count);
        Assert.Single(recorder.Of(RetriesInstrument, name));
        Assert.Contains(recorder.Of(TransitionsInstrument, name), m => Equals(m.Tags[ResilienceTelemetry.StateTag], "open"));
    }

    [Fact]
    public void ResilienceMeter_SameFactory_OneMeterAndOneInstrumentSet()
    {
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();

        var meter = ResilienceMeter.For(factory);

        Assert.Same(meter, ResilienceMeter.For(factory));
        Assert.Same(factory, meter.Meter.Scope);
        Assert.Equal(ResilienceTelemetry.MeterName, meter.Meter.Name);
        Assert.Same(meter.Instruments<RetryTelemetry>(), ResilienceMeter.Instruments<RetryTelemetry>(factory));
        Assert.NotSame(meter, ResilienceMeter.For(null));
        Assert.Null(ResilienceMeter.For(null).Meter.Scope);
    }

    private static async ValueTask<int> HangAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }
}
