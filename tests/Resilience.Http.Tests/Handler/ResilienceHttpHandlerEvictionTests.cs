using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Resilience.CircuitBreaking;
using Resilience.Http.Testing;
using Resilience.Telemetry;
using Resilience.Testing;

namespace Resilience.Http.Tests.Handler;

/// <summary>Forgetting authorities beyond <see cref="HttpResilienceOptions.MaxTrackedAuthorities"/> without forgetting an open circuit.</summary>
public sealed class ResilienceHttpHandlerEvictionTests : IAsyncLifetime
{
    private FaultServer _a = null!;
    private FaultServer _b = null!;
    private FaultServer _c = null!;

    public async Task InitializeAsync()
    {
        _a = await FaultServer.StartAsync();
        _b = await FaultServer.StartAsync();
        _c = await FaultServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _c.DisposeAsync();
    }

    private static string Name(FaultServer server) => $"ev:http://127.0.0.1:{server.BaseAddress.Port}";

    [Fact]
    public async Task Eviction_LeastRecentlyUsedIsOpen_ClosedOneForgottenInstead()
    {
        using var registry = new CircuitBreakerRegistry();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.MaxTrackedAuthorities = 2;
            o.MaxRetries = 0;
            o.FailureThreshold = 1;
        }), "ev", registry);
        _a.Default = FaultResponse.Status(503);
        (await fixture.GetAsync(_a.Url("/"))).Dispose();
        var openBreaker = fixture.Handler.Engine.GetPipelines(_a.BaseAddress).Breaker;
        (await fixture.GetAsync(_b.Url("/"))).Dispose();

        (await fixture.GetAsync(_c.Url("/"))).Dispose();
        using var stillRejected = await fixture.GetAsync(_a.Url("/"));

        Assert.Equal(CircuitState.Open, openBreaker.State);
        Assert.Same(openBreaker, fixture.Handler.Engine.GetPipelines(_a.BaseAddress).Breaker);
        Assert.Equal(HttpResilienceOutcome.CircuitOpen, HttpResilienceResponse.GetOutcome(stillRejected));
        Assert.Equal(1, _a.RequestCount);
        Assert.Equal(new[] { Name(_a), Name(_c) }.Order(StringComparer.Ordinal), registry.GetStatusReport().Select(s => s.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Eviction_EveryTrackedBreakerOpen_ForgottenOneIsCountedAndLogged()
    {
        using var logger = new CapturingLogger();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logger).SetMinimumLevel(LogLevel.Trace));
        var forgotten = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ResilienceTelemetry.MeterName && instrument.Name == HttpResilienceTelemetry.OpenBreakersForgottenInstrument)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tags.ToArray().Any(t => Equals(t.Value, "ev-all")))
            {
                Interlocked.Add(ref forgotten, value);
            }
        });
        listener.Start();
        var time = new DelayRecordingTimeProvider();
        var options = HandlerFixture.Immediate(o =>
        {
            o.MaxTrackedAuthorities = 1;
            o.MaxRetries = 0;
            o.FailureThreshold = 1;
        });
        using var handler = new ResilienceHttpHandler("ev-all", options, time, factory) { InnerHandler = new SocketsHttpHandler() };
        using var client = new HttpClient(handler);
        _a.Default = FaultResponse.Status(503);

        (await client.GetAsync(_a.Url("/"))).Dispose();
        (await client.GetAsync(_b.Url("/"))).Dispose();

        Assert.Equal(1, Interlocked.Read(ref forgotten));
        var entry = Assert.Single(logger.Entries, e => e.EventId.Id == HttpResilienceEventIds.OpenBreakerForgotten);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Contains($"http://127.0.0.1:{_a.BaseAddress.Port}", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eviction_RegistryHoldsAnotherBreakerOfThatName_OnlyTheEvictedInstanceRemoved()
    {
        using var registry = new CircuitBreakerRegistry();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.MaxTrackedAuthorities = 1), "ev", registry);
        (await fixture.GetAsync(_a.Url("/"))).Dispose();

        // Someone replaced the breaker under that name (a newer owner of the name): evicting ours must leave theirs.
        registry.Remove(Name(_a));
        var replacement = registry.GetOrAdd(Name(_a), new CircuitBreakerOptions());
        (await fixture.GetAsync(_b.Url("/"))).Dispose();

        Assert.True(registry.TryGet(Name(_a), out var kept));
        Assert.Same(replacement, kept);
        Assert.True(registry.TryGet(Name(_b), out _));
    }
}
