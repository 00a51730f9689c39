using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;

namespace Resilience.Core.Tests.DependencyInjection;

public sealed class PipelineRegistrationTests
{
    [Fact]
    public async Task AddPipeline_FromConfiguration_BuildsEverySlot_AndRegistersBreaker()
    {
        var configuration = Configuration(new()
        {
            ["Resilience:Pipelines:orders-db:TotalTimeout"] = "00:00:30",
            ["Resilience:Pipelines:orders-db:AttemptTimeout"] = "00:00:05",
            ["Resilience:Pipelines:orders-db:ConcurrencyLimit"] = "8",
            ["Resilience:Pipelines:orders-db:Retry:MaxRetries"] = "2",
            ["Resilience:Pipelines:orders-db:Retry:BaseDelay"] = "00:00:00",
            ["Resilience:Pipelines:orders-db:RetryBudget:DepositPerSuccess"] = "0.2",
            ["Resilience:Pipelines:orders-db:CircuitBreaker:FailureThreshold"] = "3",
            ["Resilience:Pipelines:orders-db:CircuitBreaker:BreakDuration"] = "00:00:30",
        });
        var services = new ServiceCollection();
        services.AddResilience().AddPipeline("orders-db", configuration.GetSection("Resilience:Pipelines:orders-db"));
        await using var provider = services.BuildServiceProvider();

        var pipeline = provider.GetRequiredKeyedService<ResiliencePipeline>("orders-db");
        var attempts = 0;
        var result = await pipeline.ExecuteAsync(
            (_) => ++attempts < 3 ? ValueTask.FromException<int>(new InvalidOperationException("flaky")) : new ValueTask<int>(7),
            CancellationToken.None);

        Assert.Equal(7, result);
        Assert.Equal(3, attempts);
        Assert.Equal(2, pipeline.RetryStatistics!.GetSnapshot().TotalRetries);
        var status = Assert.Single(provider.GetRequiredService<CircuitBreakerRegistry>().GetStatusReport());
        Assert.Equal("orders-db", status.Name);
        Assert.Same(pipeline.CircuitBreaker, provider.GetRequiredKeyedService<global::Resilience.CircuitBreaking.CircuitBreaker>("orders-db"));
    }

    [Fact]
    public void AddPipeline_InvalidValues_FailAtStartup_NamingKeyAndRule()
    {
        var configuration = Configuration(new()
        {
            ["Resilience:Pipelines:llm:TotalTimeout"] = "00:00:05",
            ["Resilience:Pipelines:llm:AttemptTimeout"] = "00:00:10",
            ["Resilience:Pipelines:llm:Retry:MaxRetries"] = "-1",
        });
        var services = new ServiceCollection();
        services.AddResilience().AddPipeline("llm", configuration.GetSection("Resilience:Pipelines:llm"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<ResiliencePipelineOptions>>().Get("llm"));

        Assert.Contains(error.Failures, f => f.StartsWith("Resilience:Pipelines:llm:AttemptTimeout:", StringComparison.Ordinal) && f.Contains("must not exceed TotalTimeout", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Resilience:Pipelines:llm:Retry:", StringComparison.Ordinal) && f.Contains("MaxRetries", StringComparison.Ordinal));
    }

    [Fact]
    public void AddPipeline_UnknownKey_IsRejected()
    {
        var configuration = Configuration(new() { ["Resilience:Pipelines:x:Retry:MaxAttempts"] = "3" });
        var services = new ServiceCollection();
        services.AddResilience().AddPipeline("x", configuration.GetSection("Resilience:Pipelines:x"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredKeyedService<ResiliencePipeline>("x"));

        Assert.Contains("Resilience:Pipelines:x:Retry:MaxAttempts: unknown key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPipelineOfT_ConfigureInCode_AddsResultHandling()
    {
        var services = new ServiceCollection();
        services.AddResilience().AddPipeline<int>(
            "status",
            Configuration(new() { ["Resilience:Pipelines:status:Retry:MaxRetries"] = "1", ["Resilience:Pipelines:status:Retry:BaseDelay"] = "00:00:00" })
                .GetSection("Resilience:Pipelines:status"),
            static (pipeline, _) => pipeline.ShouldHandleResult(static code => code >= 500));
        await using var provider = services.BuildServiceProvider();
        var pipeline = provider.GetRequiredKeyedService<ResiliencePipeline<int>>("status");
        var codes = new Queue<int>([503, 200]);

        var code = await pipeline.ExecuteAsync(static (q, _) => new ValueTask<int>(q.Dequeue()), codes, CancellationToken.None);

        Assert.Equal(200, code);
    }

    private static IConfigurationRoot Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
