using System.Threading.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Resilience.CircuitBreaking;
using Resilience.Fallback;
using Resilience.FaultInjection;
using Resilience.Retry;

namespace Resilience.Core.Tests.Pipeline;

public sealed class PipelineDescribeTests
{
    [Fact]
    public void Describe_EveryKindAddedInAnyOrder_ListsThemInTheFixedOrder()
    {
        using var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 4 });
        var pipeline = new ResiliencePipelineBuilder("orders")
            .AddFaultInjection(new FaultInjector(new FaultInjectionOptions()))
            .AddAttemptTimeout(TimeSpan.FromSeconds(1))
            .AddCircuitBreaker(new CircuitBreakerOptions { FailureThreshold = 3 })
            .AddRetry(new RetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.FromMilliseconds(100) })
            .AddRateLimiter(limiter)
            .AddTotalTimeout(TimeSpan.FromSeconds(5))
            .Build();

        var layers = pipeline.Describe();

        Assert.Equal(["RateLimiter", "TotalTimeout", "Retry", "CircuitBreaker", "AttemptTimeout", "FaultInjection"], layers.Select(l => l.Kind));
        Assert.Equal("RateLimiter(Limiter=ConcurrencyLimiter)", layers[0].ToString());
        Assert.Equal("TotalTimeout(Timeout=00:00:05)", layers[1].ToString());
        Assert.StartsWith("MaxRetries=2, Backoff=Exponential, BaseDelay=00:00:00.1000000,", layers[2].Summary, StringComparison.Ordinal);
        Assert.StartsWith("Name=orders, Mode=ConsecutiveFailures, FailureThreshold=3,", layers[3].Summary, StringComparison.Ordinal);
        Assert.Equal("AttemptTimeout(Timeout=00:00:01)", layers[4].ToString());
    }

    [Fact]
    public void Describe_NoLayers_IsEmpty() =>
        Assert.Empty(new ResiliencePipelineBuilder("bare").Build().Describe());

    [Fact]
    public void Describe_KindAddedTwice_ListsTheLastOnce()
    {
        var pipeline = new ResiliencePipelineBuilder("twice")
            .AddTotalTimeout(TimeSpan.FromSeconds(5))
            .AddTotalTimeout(TimeSpan.FromSeconds(9))
            .Build();

        Assert.Equal(["TotalTimeout(Timeout=00:00:09)"], pipeline.Describe().Select(l => l.ToString()));
    }

    [Fact]
    public void Describe_TypedPipelineWithFallback_ListsTheFallbackOutermost()
    {
        var pipeline = new ResiliencePipelineBuilder<int>("prices")
            .AddRetry(new RetryOptions { MaxRetries = 1 })
            .AddFallback(new CachedFallback<string, int>("prices", new CachedFallbackOptions { MaxEntries = 10, MaxStaleness = TimeSpan.FromMinutes(5) }))
            .Build();

        var layers = pipeline.Describe();

        Assert.Equal(["Fallback", "Retry"], layers.Select(l => l.Kind));
        Assert.Equal("Name=prices, MaxEntries=10, MaxStaleness=00:05:00, StaticFallback=False", layers[0].Summary);
    }

    [Fact]
    public async Task Describe_PipelineFromConfiguration_ShowsTheConfiguredValues()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Resilience:Pipelines:db:TotalTimeout"] = "00:00:30",
            ["Resilience:Pipelines:db:Retry:MaxRetries"] = "4",
            ["Resilience:Pipelines:db:AttemptTimeout"] = "00:00:05",
        }).Build();
        var services = new ServiceCollection();
        services.AddResilience().AddPipeline("db", configuration.GetSection("Resilience:Pipelines:db"));
        await using var provider = services.BuildServiceProvider();

        var layers = provider.GetRequiredKeyedService<ResiliencePipeline>("db").Describe();

        Assert.Equal(["TotalTimeout", "Retry", "AttemptTimeout"], layers.Select(l => l.Kind));
        Assert.Equal("Timeout=00:00:30", layers[0].Summary);
        Assert.StartsWith("MaxRetries=4,", layers[1].Summary, StringComparison.Ordinal);
        Assert.Equal("Timeout=00:00:05", layers[2].Summary);
    }
}
