using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Retry;
using Resilience.Telemetry;
using Resilience.Testing;

namespace Resilience.Core.Tests.Telemetry;

public sealed class PipelineDurationTests
{
    private static readonly ResiliencePropertyKey<string> Tenant = new("tenant");

    [Fact]
    public async Task ExecuteAsync_RetriedOnce_OneCallAndTwoAttemptsMeasured_EnrichedFromTheContext()
    {
        const string name = "duration-db";
        // A container's meter, not the static one: listening to the static meter would make the allocation tests that run
        // beside this one record (and allocate) on every call.
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        using var recorder = new MeterRecorder(meter => ReferenceEquals(meter.Scope, factory));
        var pipeline = new ResiliencePipelineBuilder(name)
        {
            MeterFactory = factory,
            TelemetryEnricher = static (ResilienceContext? ctx, ref TagList tags) => tags.Add("tenant", ctx?.Properties.GetValue(Tenant, "none")),
        }
            .AddRetry(new RetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.Zero, Jitter = RetryJitter.None })
            .Build();
        var context = ResilienceContextPool.Shared.Get("orders");
        context.Properties.Set(Tenant, "acme");

        await pipeline.ExecuteAsync(static (ctx, _) => ctx.Attempt == 0 ? throw new TimeoutException("slow") : new ValueTask<int>(1), context, 0);
        await pipeline.ExecuteOutcomeAsync(static (_, _) => ValueTask.FromException<int>(new InvalidOperationException("bad")), 0, CancellationToken.None);

        var calls = recorder.Of("resilience.pipeline.duration", name);
        Assert.Equal(2, calls.Count);
        Assert.Equal(("success", (object?)"acme"), (calls[0].Tags[ResilienceTelemetry.OutcomeTag], calls[0].Tags["tenant"]));
        Assert.Equal(("failure", (object?)null), (calls[1].Tags[ResilienceTelemetry.OutcomeTag], calls[1].Tags["tenant"]));
        Assert.All(calls, static m => Assert.True(m.Value >= 0));

        var attempts = recorder.Of("resilience.attempt.duration", name);
        Assert.Equal(
            [(0, "failure", "TimeoutException"), (1, "success", null)],
            attempts.Take(2).Select(static m => ((int)m.Tags[ResilienceTelemetry.AttemptTag]!, (string)m.Tags[ResilienceTelemetry.OutcomeTag]!, m.Tags.GetValueOrDefault(ResilienceTelemetry.ReasonTag) as string)));
        ResilienceContextPool.Shared.Return(context);
    }
}
