using System.Net;
using Resilience.AdaptiveConcurrency;
using Resilience.AdaptiveThrottling;
using Resilience.Http.Testing;
using Resilience.Http.Tests.Handler;
using Resilience.Testing;

namespace Resilience.Http.Tests.Overload;

/// <summary>The handler's adaptive concurrency limit and adaptive throttling, per authority, against real servers on loopback.</summary>
public sealed class HttpOverloadTests : IAsyncLifetime
{
    // Only bounds a test that fails (a refused request that was sent instead hangs on the gate); nothing waits for it.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private FaultServer _a = null!;
    private FaultServer _b = null!;

    public async Task InitializeAsync()
    {
        _a = await FaultServer.StartAsync();
        _b = await FaultServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    private static HttpResilienceOptions Limited(int limit, Action<HttpResilienceOptions>? configure = null) => HandlerFixture.Immediate(o =>
    {
        o.ConcurrencyLimit.Enabled = true;
        o.ConcurrencyLimit.Options.MinLimit = 1;
        o.ConcurrencyLimit.Options.InitialLimit = limit;
        o.ConcurrencyLimit.Options.MaxLimit = limit;
        o.ConcurrencyLimit.Options.QueueLimit = 0;
        configure?.Invoke(o);
    });

    [Fact]
    public async Task ConcurrencyLimit_AuthoritySaturated_RefusedWithoutSending_OtherAuthorityServed()
    {
        using var recorder = new MeterRecorder(static _ => true);
        using var fixture = new HandlerFixture(Limited(2), name: "overload-a");
        var gate = new HangGate();
        _a.Default = FaultResponse.Hang(gate);
        var held = new[] { fixture.Client.GetAsync(_a.Url("/slow")), fixture.Client.GetAsync(_a.Url("/slow")) };
        await _a.WaitForRequestsAsync(2);

        using var refused = await fixture.Client.GetAsync(_a.Url("/slow")).WaitAsync(Bound);
        using var elsewhere = await fixture.Client.GetAsync(_b.Url("/fast"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(HttpResilienceOutcome.ConcurrencyLimited, HttpResilienceResponse.GetOutcome(refused));
        Assert.Equal(0, HttpResilienceResponse.GetAttempts(refused));
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(2, _a.RequestCount);
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);

        var authority = $"http://127.0.0.1:{_a.BaseAddress.Port}";
        var handled = Assert.Single(recorder.Of(HttpResilienceTelemetry.HandledInstrument), m => Equals(m.Tags[HttpResilienceTelemetry.ClientNameTag], "overload-a"));
        Assert.Equal("concurrency-limited", handled.Tags[HttpResilienceTelemetry.OutcomeTag]);
        Assert.Equal(authority, handled.Tags[HttpResilienceTelemetry.AuthorityTag]);
        recorder.RecordObservableInstruments();
        Assert.Contains(recorder.Of("resilience.concurrency_limit.in_flight", "overload-a:" + authority), m => m.Value == 2);
        Assert.Contains(recorder.Of("resilience.concurrency_limit.limit", "overload-a:" + authority), m => m.Value == 2);

        gate.Release();
        foreach (var response in await Task.WhenAll(held))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }
    }

    [Fact]
    public async Task ConcurrencyLimit_ExceptionSurface_ThrowsTypedWithTheLimitersRefusal()
    {
        using var fixture = new HandlerFixture(Limited(1, o => o.FailureSurface = HttpFailureSurface.Exception));
        var gate = new HangGate();
        _a.Default = FaultResponse.Hang(gate);
        var held = fixture.Client.GetAsync(_a.Url("/slow"));
        await _a.WaitForRequestsAsync(1);

        var error = await Assert.ThrowsAsync<HttpResilienceException>(() => fixture.Client.GetAsync(_a.Url("/slow")).WaitAsync(Bound));

        Assert.Equal(HttpResilienceOutcome.ConcurrencyLimited, error.Outcome);
        Assert.Equal(0, error.Attempts);
        Assert.IsType<ConcurrencyLimitRejectedException>(error.InnerException);
        gate.Release();
        (await held).Dispose();
    }

    [Fact]
    public async Task ConcurrencyLimit_UnderPressure_SheddableRefusedFirst_CriticalStillSent()
    {
        using var fixture = new HandlerFixture(Limited(4, o => o.ConcurrencyLimit.Options.SheddableShare = 0.5));
        var gate = new HangGate();
        _a.Default = FaultResponse.Hang(gate);
        var held = new[] { fixture.Client.GetAsync(_a.Url("/slow")), fixture.Client.GetAsync(_a.Url("/slow")) };
        await _a.WaitForRequestsAsync(2);

        using var sheddable = await fixture.Client.SendAsync(Marked(CallPriority.Sheddable)).WaitAsync(Bound);
        var critical = fixture.Client.SendAsync(Marked(CallPriority.Critical));
        await _a.WaitForRequestsAsync(3);

        Assert.Equal(HttpResilienceOutcome.ConcurrencyLimited, HttpResilienceResponse.GetOutcome(sheddable));
        Assert.Equal(3, _a.RequestCount);
        gate.Release();
        using var served = await critical;
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        foreach (var response in await Task.WhenAll(held))
        {
            response.Dispose();
        }

        HttpRequestMessage Marked(CallPriority priority)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, _a.Url("/slow"));
            request.Options.Set(HttpResilienceRequestOptions.Priority, priority);
            return request;
        }
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task AdaptiveThrottling_AuthorityRefusesEverything_MostRequestsRefusedLocally(int status)
    {
        using var fixture = new HandlerFixture(Throttled());
        _a.Default = FaultResponse.Status(status);

        var outcomes = new List<HttpResilienceOutcome>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await fixture.GetAsync(_a.Url("/x"));
            outcomes.Add(HttpResilienceResponse.GetOutcome(response));
        }

        // After 10 unaccepted requests the odds of refusal are at least 10/11; 30 draws leave at most a few sent.
        var throttled = outcomes.Count(static o => o == HttpResilienceOutcome.Throttled);
        Assert.True(throttled >= 15, $"throttled {throttled} of 40");
        Assert.Equal(40 - throttled, _a.RequestCount);
    }

    [Fact]
    public async Task AdaptiveThrottling_ExceptionSurface_ThrowsTypedWithTheThrottlersRefusal()
    {
        using var fixture = new HandlerFixture(Throttled(o => o.FailureSurface = HttpFailureSurface.Exception));
        _a.Default = FaultResponse.Status(503);
        HttpResilienceException? refused = null;
        for (var i = 0; i < 40 && refused is null; i++)
        {
            var error = await Assert.ThrowsAsync<HttpResilienceException>(() => fixture.GetAsync(_a.Url("/x")));
            refused = error.Outcome == HttpResilienceOutcome.Throttled ? error : null;
        }

        Assert.NotNull(refused);
        Assert.Equal(0, refused.Attempts);
        Assert.IsType<AdaptiveThrottlingRejectedException>(refused.InnerException);
    }

    private static HttpResilienceOptions Throttled(Action<HttpResilienceOptions>? configure = null) => HandlerFixture.Immediate(o =>
    {
        o.MaxRetries = 0;
        o.FailureThreshold = 10_000;
        o.AdaptiveThrottling.Enabled = true;
        configure?.Invoke(o);
    });
}
