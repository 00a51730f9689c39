using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Telemetry;
using Resilience.Testing;

namespace Resilience.Core.Tests.Reload;

public sealed class PipelineReloadTests
{
    private const string Prefix = "Resilience:Pipelines:db:";

    [Fact]
    public async Task AddPipeline_ConfigurationReloaded_NewValuesTakeEffectOnTheResolvedInstance()
    {
        using var host = new ReloadHost(new() { [Prefix + "Retry:MaxRetries"] = "1", [Prefix + "Retry:BaseDelay"] = "00:00:00" });
        var pipeline = host.Pipeline;
        Assert.Equal(2, await AttemptsOfFailingCall(pipeline));

        host.Reload((Prefix + "Retry:MaxRetries", "3"));

        Assert.Same(pipeline, host.Pipeline);
        Assert.Equal(4, await AttemptsOfFailingCall(pipeline));
        Assert.Contains("MaxRetries=3", pipeline.Describe()[0].Summary, StringComparison.Ordinal);
        Assert.Contains(ResilienceEventIds.OptionsReloaded, host.Log.EventIds);
    }

    [Fact]
    public async Task AddPipeline_ReloadedWithInvalidValues_RejectsAndLogs_OldOptionsStayInForce()
    {
        using var host = new ReloadHost(new() { [Prefix + "Retry:MaxRetries"] = "1", [Prefix + "Retry:BaseDelay"] = "00:00:00" });
        var pipeline = host.Pipeline;

        host.Reload((Prefix + "Retry:MaxRetries", "-1"));
        host.Reload((Prefix + "Retry:MaxRetries", "many"));

        Assert.Equal(2, await AttemptsOfFailingCall(pipeline));
        Assert.Equal(1, host.Services.GetRequiredService<IOptionsMonitor<ResiliencePipelineOptions>>().Get("db").Retry!.MaxRetries);
        var rejected = host.Log.Entries.Where(e => e.EventId.Id == ResilienceEventIds.OptionsReloadRejected).ToList();
        Assert.Equal(2, rejected.Count);
        Assert.All(rejected, e => Assert.Equal(LogLevel.Warning, e.Level));
        Assert.Contains("Resilience:Pipelines:db:Retry", rejected[0].Message, StringComparison.Ordinal);
        Assert.Contains("'many' is not a whole number", rejected[1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ResilienceEventIds.OptionsReloaded, host.Log.EventIds);

        // Valid again: applied.
        host.Reload((Prefix + "Retry:MaxRetries", "2"));
        Assert.Equal(3, await AttemptsOfFailingCall(pipeline));
    }

    [Fact]
    public async Task AddPipeline_UnrelatedOptionsReloaded_BreakerKeepsItsOpenCircuit()
    {
        using var host = new ReloadHost(new()
        {
            [Prefix + "Retry:MaxRetries"] = "1",
            [Prefix + "Retry:BaseDelay"] = "00:00:00",
            [Prefix + "CircuitBreaker:FailureThreshold"] = "2",
            [Prefix + "CircuitBreaker:BreakDuration"] = "00:01:00",
        });
        var pipeline = host.Pipeline;
        var breaker = pipeline.CircuitBreaker!;
        await AttemptsOfFailingCall(pipeline);
        Assert.Equal(CircuitState.Open, breaker.State);

        host.Reload((Prefix + "Retry:MaxRetries", "3"), (Prefix + "TotalTimeout", "00:00:30"));

        Assert.Same(breaker, pipeline.CircuitBreaker);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(0, await AttemptsOfFailingCall(pipeline));
        Assert.Contains("TotalTimeout", pipeline.Describe()[0].Kind, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPipeline_BreakerOptionsReloaded_AppliedWithoutClosingTheCircuit()
    {
        using var host = new ReloadHost(new()
        {
            [Prefix + "CircuitBreaker:FailureThreshold"] = "1",
            [Prefix + "CircuitBreaker:BreakDuration"] = "00:01:00",
        });
        var pipeline = host.Pipeline;
        var breaker = pipeline.CircuitBreaker!;
        await AttemptsOfFailingCall(pipeline);
        Assert.Equal(CircuitState.Open, breaker.State);

        host.Reload((Prefix + "CircuitBreaker:FailureThreshold", "3"), (Prefix + "CircuitBreaker:BreakDuration", "00:05:00"));

        // The break in progress keeps its end (1 minute); the probe then closes the circuit.
        Assert.Equal(CircuitState.Open, breaker.State);
        host.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(7, await pipeline.ExecuteAsync(static _ => new ValueTask<int>(7), CancellationToken.None));
        Assert.Equal(CircuitState.Closed, breaker.State);

        // The new threshold (3) and break (5 minutes) are in force.
        await AttemptsOfFailingCall(pipeline);
        await AttemptsOfFailingCall(pipeline);
        Assert.Equal(CircuitState.Closed, breaker.State);
        await AttemptsOfFailingCall(pipeline);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(TimeSpan.FromMinutes(5), breaker.GetSnapshot().BreakDuration);
        Assert.Contains("FailureThreshold=3, BreakDuration=00:05:00", pipeline.Describe()[0].Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void ReloadOnChange_ListenerThrows_IsLoggedAndTheNewOptionsStayInForce()
    {
        using var host = new ReloadHost(new() { [Prefix + "TotalTimeout"] = "00:00:10" });
        var monitor = host.Services.GetRequiredService<IOptionsMonitor<ResiliencePipelineOptions>>();
        _ = host.Pipeline;
        using var subscription = monitor.OnChange((_, _) => throw new InvalidOperationException("listener bug"));

        host.Reload((Prefix + "TotalTimeout", "00:00:20"));

        Assert.Equal(TimeSpan.FromSeconds(20), monitor.Get("db").TotalTimeout);
        Assert.Contains("Timeout=00:00:20", host.Pipeline.Describe()[0].Summary, StringComparison.Ordinal);
        var failure = Assert.Single(host.Log.Entries, e => e.EventId.Id == ResilienceEventIds.OptionsReloadListenerFailed);
        Assert.Equal(LogLevel.Error, failure.Level);
    }

    [Fact]
    public async Task AddPipeline_CircuitBreakerSectionAddedByReload_RebuildFailsAndIsLogged_PipelineStays()
    {
        using var host = new ReloadHost(new() { [Prefix + "Retry:MaxRetries"] = "1", [Prefix + "Retry:BaseDelay"] = "00:00:00" });
        var pipeline = host.Pipeline;

        host.Reload((Prefix + "CircuitBreaker:FailureThreshold", "3"));

        Assert.Null(pipeline.CircuitBreaker);
        Assert.Equal(2, await AttemptsOfFailingCall(pipeline));
        Assert.Contains(ResilienceEventIds.PipelineReloadFailed, host.Log.EventIds);
    }

    [Fact]
    public async Task AddPipeline_ReloadUnderConcurrentTraffic_EveryCallRunsUnderTheOldOrTheNewOptions()
    {
        using var host = new ReloadHost(new() { [Prefix + "Retry:MaxRetries"] = "1", [Prefix + "Retry:BaseDelay"] = "00:00:00" });
        var pipeline = host.Pipeline;

        var calls = await ConcurrentCalls.RunWhileAsync(4, () => AttemptsOfFailingCall(pipeline), () =>
        {
            for (var i = 0; i < 200; i++)
            {
                host.Reload((Prefix + "Retry:MaxRetries", i % 2 == 0 ? "3" : "1"));
            }

            return Task.CompletedTask;
        });

        // 1 retry (2 attempts) or 3 retries (4 attempts): never a mix, never a call lost to a swap.
        Assert.NotEmpty(calls);
        Assert.All(calls, attempts => Assert.True(attempts is 2 or 4, $"A call made {attempts} attempts."));
        Assert.Equal(calls.Count, pipeline.RetryStatistics!.GetSnapshot().Exhausted);
        Assert.Equal(2, await AttemptsOfFailingCall(pipeline));
        Assert.Equal(200, host.Log.EventIds.Count(id => id == ResilienceEventIds.OptionsReloaded));
        Assert.DoesNotContain(host.Log.EventIds, id => id is ResilienceEventIds.OptionsReloadRejected or ResilienceEventIds.PipelineReloadFailed or ResilienceEventIds.OptionsReloadListenerFailed);
    }

    [Fact]
    public void ReloadOnChange_OtherSectionChanged_RaisesNoChange()
    {
        using var host = new ReloadHost(new() { [Prefix + "TotalTimeout"] = "00:00:10", ["Other:Key"] = "a" });
        _ = host.Pipeline;
        var changes = 0;
        using var subscription = host.Services.GetRequiredService<IOptionsMonitor<ResiliencePipelineOptions>>().OnChange((_, _) => changes++);

        host.Reload(("Other:Key", "b"));
        Assert.Equal(0, changes);

        host.Reload((Prefix + "TotalTimeout", "00:00:20"));
        Assert.Equal(1, changes);
    }

    private static async Task<int> AttemptsOfFailingCall(ResiliencePipeline pipeline)
    {
        var counter = new StrongBox<int>();
        var outcome = await pipeline.ExecuteOutcomeAsync(
            static (c, _) =>
            {
                c.Value++;
                return ValueTask.FromException<int>(new InvalidOperationException("down"));
            },
            counter,
            CancellationToken.None);
        Assert.True(outcome.HasException);
        return counter.Value;
    }

    /// <summary>A container with one pipeline <c>db</c> bound from an in-memory configuration that tests change and reload.</summary>
    private sealed class ReloadHost : IDisposable
    {
        private readonly IConfigurationRoot _configuration;
        private readonly ServiceProvider _services;

        public ReloadHost(Dictionary<string, string?> values)
        {
            _configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
            var services = new ServiceCollection();
            services.AddSingleton<TimeProvider>(Time);
            services.AddLogging(b => b.AddProvider(Log).SetMinimumLevel(LogLevel.Trace));
            services.AddResilience().AddPipeline("db", _configuration.GetSection("Resilience:Pipelines:db"));
            _services = services.BuildServiceProvider();
        }

        public FakeTimeProvider Time { get; } = new();

        public CapturingLogger Log { get; } = new();

        public IServiceProvider Services => _services;

        public ResiliencePipeline Pipeline => _services.GetRequiredKeyedService<ResiliencePipeline>("db");

        public void Reload(params (string Key, string Value)[] changes)
        {
            foreach (var (key, value) in changes)
            {
                _configuration[key] = value;
            }

            _configuration.Reload();
        }

        public void Dispose() => _services.Dispose();
    }
}
