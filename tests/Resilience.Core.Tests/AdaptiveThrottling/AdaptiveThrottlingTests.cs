using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.AdaptiveThrottling;
using Resilience.CircuitBreaking;

namespace Resilience.Core.Tests.AdaptiveThrottling;

public sealed class AdaptiveThrottlingTests
{
    [Fact]
    public async Task HealthyDependency_NothingIsRefused()
    {
        var throttler = new AdaptiveThrottler("llm", new AdaptiveThrottlingOptions(), new FakeTimeProvider(), new Random(1));
        var pipeline = new ResiliencePipelineBuilder<int>("llm").AddAdaptiveThrottling(throttler).Build();

        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(i, await pipeline.ExecuteAsync(static (s, _) => new ValueTask<int>(s), i, CancellationToken.None));
        }

        Assert.Equal(0, throttler.RejectionProbability);
    }

    [Fact]
    public async Task Probability_IsTheSreFormula_OverTheWindow()
    {
        var throttler = new AdaptiveThrottler("llm", new AdaptiveThrottlingOptions { Multiplier = 2, MinimumThroughput = 0 }, new FakeTimeProvider(), new Random(1));
        var pipeline = new ResiliencePipelineBuilder<int>("llm").ShouldHandleResult(static r => r == 503).AddAdaptiveThrottling(throttler).Build();

        // 10 accepted, then 20 refused by the dependency (503): requests 30, accepts 10 → (30 − 2×10) / 31.
        for (var i = 0; i < 10; i++)
        {
            await pipeline.ExecuteAsync(static (_, _) => new ValueTask<int>(200), 0, CancellationToken.None);
        }

        var refusedLocally = 0;
        for (var i = 0; i < 20; i++)
        {
            var outcome = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(503), 0, CancellationToken.None);
            refusedLocally += outcome.Exception is AdaptiveThrottlingRejectedException ? 1 : 0;
        }

        // A locally refused request counts as a request that was not accepted, as in the book.
        Assert.Equal((30 - (2.0 * 10)) / 31, throttler.RejectionProbability, precision: 6);
        Assert.True(refusedLocally > 0);
    }

    [Fact]
    public async Task DeadDependency_MostRequestsRefusedLocally_AndNotSent()
    {
        var throttler = new AdaptiveThrottler("llm", new AdaptiveThrottlingOptions(), new FakeTimeProvider(), new Random(7));
        var pipeline = new ResiliencePipelineBuilder<int>("llm").AddAdaptiveThrottling(throttler).Build();
        var sent = new StrongBox<int>();

        var refused = 0;
        for (var i = 0; i < 1000; i++)
        {
            var outcome = await pipeline.ExecuteOutcomeAsync(static (box, _) =>
            {
                box.Value++;
                throw new HttpRequestException("503");
            }, sent, CancellationToken.None);
            if (outcome.Exception is AdaptiveThrottlingRejectedException rejection)
            {
                refused++;
                Assert.NotNull(rejection.RetryAfter);
            }
        }

        Assert.Equal(1000, refused + sent.Value);
        Assert.True(refused > 900, $"{refused} of 1000 refused locally");
        Assert.True(sent.Value >= 10, "a trickle still reaches the dependency, so its recovery is seen");
    }

    [Fact]
    public async Task WindowSlides_AfterTheBadPeriod_TrafficResumes()
    {
        var time = new FakeTimeProvider();
        var throttler = new AdaptiveThrottler("llm", new AdaptiveThrottlingOptions { Window = TimeSpan.FromSeconds(10) }, time, new Random(3));
        var pipeline = new ResiliencePipelineBuilder<int>("llm").AddAdaptiveThrottling(throttler).Build();
        for (var i = 0; i < 100; i++)
        {
            await pipeline.ExecuteOutcomeAsync(static (_, _) => throw new HttpRequestException("503"), 0, CancellationToken.None);
        }

        Assert.True(throttler.RejectionProbability > 0.5);
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(0, throttler.RejectionProbability);
        Assert.Equal(1, await pipeline.ExecuteAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None));
    }

    [Fact]
    public async Task RefusalsInside_OpenCircuit_AreNotCounted()
    {
        var throttler = new AdaptiveThrottler("llm", new AdaptiveThrottlingOptions { MinimumThroughput = 0 }, new FakeTimeProvider(), new Random(1));
        var breaker = new CircuitBreaker("llm", new CircuitBreakerOptions());
        breaker.Isolate();
        var pipeline = new ResiliencePipelineBuilder<int>("llm").AddAdaptiveThrottling(throttler).AddCircuitBreaker(breaker).Build();

        for (var i = 0; i < 50; i++)
        {
            var outcome = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);
            Assert.IsAssignableFrom<BrokenCircuitException>(outcome.Exception);
        }

        Assert.Equal(0, throttler.RejectionProbability);
    }

    [Fact]
    public void Describe_ThrottlingSitsJustOutsideTheBreaker()
    {
        var pipeline = new ResiliencePipelineBuilder("llm")
            .AddCircuitBreaker(new CircuitBreakerOptions())
            .AddAdaptiveThrottling(new AdaptiveThrottlingOptions())
            .AddRetry(new Resilience.Retry.RetryOptions())
            .Build();

        Assert.Equal(["Retry", "AdaptiveThrottling", "CircuitBreaker"], pipeline.Describe().Select(static d => d.Kind));
    }

    [Fact]
    public void AddAdaptiveThrottling_FromConfiguration_BindsAndRejectsUnknownKeys()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Resilience:Pipelines:llm:TotalTimeout"] = "00:00:10",
            ["Resilience:Throttling:llm:Multiplier"] = "1.5",
            ["Resilience:Throttling:bad:K"] = "2",
            ["Resilience:Throttling:worse:Window"] = "00:00:00.100",
        }).Build();
        var services = new ServiceCollection();
        services.AddResilience()
            .AddPipeline("llm", configuration.GetSection("Resilience:Pipelines:llm"))
            .AddAdaptiveThrottling("llm", configuration.GetSection("Resilience:Throttling:llm"))
            .AddAdaptiveThrottling("bad", configuration.GetSection("Resilience:Throttling:bad"))
            .AddAdaptiveThrottling("worse", configuration.GetSection("Resilience:Throttling:worse"));
        using var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService<IOptionsMonitor<AdaptiveThrottlingOptions>>();

        Assert.Equal(1.5, provider.GetRequiredKeyedService<AdaptiveThrottler>("llm").Options.Multiplier);
        Assert.Contains(provider.GetRequiredKeyedService<ResiliencePipeline>("llm").Describe(), static d => d.Kind == "AdaptiveThrottling");
        Assert.Contains("Resilience:Throttling:bad:K: unknown key", Assert.Throws<OptionsValidationException>(() => monitor.Get("bad")).Message, StringComparison.Ordinal);
        Assert.Contains("Resilience:Throttling:worse:Window: must be between", Assert.Throws<OptionsValidationException>(() => monitor.Get("worse")).Message, StringComparison.Ordinal);
    }
}
