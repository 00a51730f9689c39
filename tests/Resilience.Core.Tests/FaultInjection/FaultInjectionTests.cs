using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.FaultInjection;
using Resilience.Retry;
using Resilience.Telemetry;
using Resilience.Timeouts;

namespace Resilience.Core.Tests.FaultInjection;

public sealed class FaultInjectionTests
{
    [Fact]
    public async Task AddFaultInjection_DisabledByDefault_RunsTheOperation()
    {
        var injector = new FaultInjector(new FaultInjectionOptions { ExceptionRate = 1 });
        var pipeline = new ResiliencePipelineBuilder("chaos").AddFaultInjection(injector).Build();

        Assert.False(injector.Enabled);
        Assert.Equal(7, await pipeline.ExecuteAsync(static (s, _) => new ValueTask<int>(s), 7, CancellationToken.None));
    }

    [Fact]
    public async Task Enabled_SwitchedAtRunTime_InjectsThenStops()
    {
        var injector = new FaultInjector(new FaultInjectionOptions { ExceptionRate = 1 });
        var pipeline = new ResiliencePipelineBuilder("chaos").AddFaultInjection(injector).Build();
        var calls = 0;

        injector.Enabled = true;
        await Assert.ThrowsAsync<InjectedFaultException>(() => pipeline.ExecuteAsync(_ => new ValueTask<int>(++calls), CancellationToken.None).AsTask());
        Assert.Equal(0, calls);

        injector.Enabled = false;
        Assert.Equal(1, await pipeline.ExecuteAsync(_ => new ValueTask<int>(++calls), CancellationToken.None));
    }

    [Fact]
    public async Task ExceptionFactory_Set_InjectsItsException()
    {
        var injector = new FaultInjector(new FaultInjectionOptions { Enabled = true, ExceptionRate = 1, Exception = static () => new TimeoutException("injected") });
        var pipeline = new ResiliencePipelineBuilder("chaos").AddFaultInjection(injector).Build();

        var outcome = await pipeline.ExecuteOutcomeAsync(static (s, _) => new ValueTask<int>(s), 1, CancellationToken.None);

        Assert.Equal("injected", Assert.IsType<TimeoutException>(outcome.Exception).Message);
    }

    [Fact]
    public async Task ResultRate_TypedPipeline_ReturnsTheInjectedResult_AndRetryTreatsItAsAFailedResult()
    {
        var injector = new FaultInjector(new FaultInjectionOptions<int> { Enabled = true, ResultRate = 1, Result = static () => 503 });
        var retried = 0;
        var pipeline = new ResiliencePipelineBuilder<int>("chaos")
            .ShouldHandleResult(static r => r >= 500)
            .AddRetry(new RetryOptions<int> { MaxRetries = 2, BaseDelay = TimeSpan.Zero, OnRetry = _ => retried++ })
            .AddFaultInjection(injector)
            .Build();

        Assert.Equal(503, await pipeline.ExecuteAsync(static (_, _) => new ValueTask<int>(200), 0, CancellationToken.None));
        Assert.Equal(2, retried);
    }

    [Fact]
    public async Task ResultRate_PipelineOfAnotherResultType_InjectsNoResult()
    {
        var injector = new FaultInjector(new FaultInjectionOptions<string> { Enabled = true, ResultRate = 1, Result = static () => "injected" });
        var pipeline = new ResiliencePipelineBuilder<int>("chaos").AddFaultInjection(injector).Build();

        Assert.Equal(200, await pipeline.ExecuteAsync(static (_, _) => new ValueTask<int>(200), 0, CancellationToken.None));
    }

    [Fact]
    public async Task Latency_FakeTime_DelaysTheOperationByTheLatency()
    {
        var time = new FakeTimeProvider();
        var injector = new FaultInjector(new FaultInjectionOptions { Enabled = true, LatencyRate = 1, Latency = TimeSpan.FromSeconds(5) });
        var pipeline = new ResiliencePipelineBuilder("chaos") { TimeProvider = time }.AddFaultInjection(injector).Build();
        var ran = false;

        var task = pipeline.ExecuteAsync(_ =>
        {
            ran = true;
            return new ValueTask<int>(1);
        }, CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(task.IsCompleted);
        Assert.False(ran);
        time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.Equal(1, await task);
        Assert.True(ran);
    }

    [Fact]
    public async Task Latency_LongerThanTheAttemptTimeout_IsReportedAsAnAttemptTimeout()
    {
        var time = new FakeTimeProvider();
        var injector = new FaultInjector(new FaultInjectionOptions { Enabled = true, LatencyRate = 1, Latency = TimeSpan.FromSeconds(5) });
        var pipeline = new ResiliencePipelineBuilder("chaos") { TimeProvider = time }
            .AddAttemptTimeout(TimeSpan.FromSeconds(1))
            .AddFaultInjection(injector)
            .Build();

        var task = pipeline.ExecuteAsync(static _ => new ValueTask<int>(1), CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(1));

        var timeout = await Assert.ThrowsAsync<OperationTimeoutException>(() => task);
        Assert.Equal(TimeoutKind.Attempt, timeout.Kind);
    }

    [Fact]
    public async Task InjectedExceptions_CountAsBreakerFailures_AndOpenTheCircuit()
    {
        var injector = new FaultInjector(new FaultInjectionOptions { Enabled = true, ExceptionRate = 1 });
        var pipeline = new ResiliencePipelineBuilder("chaos")
            .AddCircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 2 })
            .AddFaultInjection(injector)
            .Build();

        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<InjectedFaultException>(() => pipeline.ExecuteAsync(static _ => new ValueTask<int>(1), CancellationToken.None).AsTask());
        }

        Assert.Equal(CircuitState.Open, pipeline.CircuitBreaker!.State);
        await Assert.ThrowsAsync<BrokenCircuitException>(() => pipeline.ExecuteAsync(static _ => new ValueTask<int>(1), CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task ExceptionRate_SameSeed_InjectsTheSameSequence()
    {
        var first = await SequenceAsync(new Random(42));
        var second = await SequenceAsync(new Random(42));

        Assert.Equal(first, second);
        var injected = first.Count(static f => f);
        Assert.InRange(injected, 30, 70);
    }

    [Fact]
    public async Task InjectedFaults_AreCountedPerPipelineAndKind()
    {
        var counts = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ResilienceTelemetry.MeterName && instrument.Name == "resilience.fault_injection.injected")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? name = null, fault = null;
            foreach (var tag in tags)
            {
                name = tag.Key == ResilienceTelemetry.NameTag ? (string?)tag.Value : name;
                fault = tag.Key == "resilience.fault" ? (string?)tag.Value : fault;
            }

            if (name == "chaos-metrics")
            {
                lock (counts)
                {
                    counts[fault!] = counts.GetValueOrDefault(fault!) + value;
                }
            }
        });
        listener.Start();
        var time = new FakeTimeProvider();
        var injector = new FaultInjector(new FaultInjectionOptions { Enabled = true, ExceptionRate = 1, LatencyRate = 1, Latency = TimeSpan.FromSeconds(1) });
        var pipeline = new ResiliencePipelineBuilder("chaos-metrics") { TimeProvider = time }.AddFaultInjection(injector).Build();

        var task = pipeline.ExecuteOutcomeAsync(static (s, _) => new ValueTask<int>(s), 1, CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.IsType<InjectedFaultException>((await task).Exception);

        lock (counts)
        {
            Assert.Equal(1, counts["latency"]);
            Assert.Equal(1, counts["exception"]);
        }
    }

    [Fact]
    public void FaultInjector_InvalidOptions_ListsEveryError()
    {
        var error = Assert.Throws<OptionsValidationException>(() => new FaultInjector(new FaultInjectionOptions<int>
        {
            ExceptionRate = 1.5,
            Latency = TimeSpan.FromSeconds(-1),
            ResultRate = 0.5,
        }));

        Assert.Equal(3, error.Failures.Count());
        Assert.Contains(error.Failures, static f => f.Contains("ExceptionRate", StringComparison.Ordinal));
        Assert.Contains(error.Failures, static f => f.Contains("Latency", StringComparison.Ordinal));
        Assert.Contains(error.Failures, static f => f.Contains("Result is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Describe_WithFaultInjection_ListsItInnermost()
    {
        var injector = new FaultInjector(new FaultInjectionOptions { ExceptionRate = 0.1 });
        var pipeline = new ResiliencePipelineBuilder("chaos")
            .AddFaultInjection(injector)
            .AddRetry(new RetryOptions())
            .AddAttemptTimeout(TimeSpan.FromSeconds(1))
            .Build();

        var layers = pipeline.Describe();

        Assert.Equal(["Retry", "AttemptTimeout", "FaultInjection"], layers.Select(l => l.Kind));
        Assert.Equal("ExceptionRate=0.1, LatencyRate=0, Latency=00:00:00, ResultRate=0", layers[2].Summary);
    }

    [Fact]
    public async Task AddFaultInjection_FromConfiguration_InjectsIntoTheNamedPipeline_AndItsInjectorSwitchesItOff()
    {
        await using var provider = Container(new()
        {
            ["Resilience:Pipelines:db:TotalTimeout"] = "00:00:30",
            ["Resilience:FaultInjection:db:Enabled"] = "true",
            ["Resilience:FaultInjection:db:ExceptionRate"] = "1",
        });
        var pipeline = provider.GetRequiredKeyedService<ResiliencePipeline>("db");

        Assert.Equal(["TotalTimeout", "FaultInjection"], pipeline.Describe().Select(l => l.Kind));
        await Assert.ThrowsAsync<InjectedFaultException>(() => pipeline.ExecuteAsync(static _ => new ValueTask<int>(1), CancellationToken.None).AsTask());

        provider.GetRequiredKeyedService<FaultInjector>("db").Enabled = false;
        Assert.Equal(1, await pipeline.ExecuteAsync(static _ => new ValueTask<int>(1), CancellationToken.None));
    }

    [Fact]
    public async Task AddFaultInjection_RateOutOfRangeInConfiguration_FailsAtResolution()
    {
        await using var provider = Container(new() { ["Resilience:FaultInjection:db:ExceptionRate"] = "2" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredKeyedService<ResiliencePipeline>("db"));
        Assert.Contains("ExceptionRate", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Container(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddResilience()
            .AddPipeline("db", configuration.GetSection("Resilience:Pipelines:db"))
            .AddFaultInjection("db", configuration.GetSection("Resilience:FaultInjection:db"));
        return services.BuildServiceProvider();
    }

    private static async Task<List<bool>> SequenceAsync(Random random)
    {
        var injector = new FaultInjector(new FaultInjectionOptions { Enabled = true, ExceptionRate = 0.5 });
        var pipeline = new ResiliencePipelineBuilder("chaos") { Random = random }.AddFaultInjection(injector).Build();
        var sequence = new List<bool>();
        for (var i = 0; i < 100; i++)
        {
            var outcome = await pipeline.ExecuteOutcomeAsync(static (s, _) => new ValueTask<int>(s), i, CancellationToken.None);
            sequence.Add(outcome.Exception is InjectedFaultException);
        }

        return sequence;
    }
}
