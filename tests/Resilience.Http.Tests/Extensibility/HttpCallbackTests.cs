using System.Collections.Concurrent;
using System.Net;
using Resilience.CircuitBreaking;
using Resilience.Http.Testing;
using Resilience.Http.Tests.Handler;

namespace Resilience.Http.Tests.Extensibility;

/// <summary>The handler's callbacks, wired to Core's, against a real Kestrel server on loopback: each names the request, the attempt and the outcome.</summary>
public sealed class HttpCallbackTests : IAsyncLifetime
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task OnRetry_FailedResponses_ReceiveRequestAttemptAndStatus()
    {
        var retries = new ConcurrentQueue<HttpRetryArguments>();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.OnRetry = retries.Enqueue));
        _server.Script("/retry", FaultResponse.Status(503), FaultResponse.Status(502), FaultResponse.Ok("third"));
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/retry?x=1"));

        using var response = await fixture.SendAsync(request).WaitAsync(Guard);

        Assert.Equal("third", await response.Content.ReadAsStringAsync());
        Assert.Collection(
            retries,
            first =>
            {
                Assert.Same(request, first.Request);
                Assert.Equal(1, first.Attempt);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
                Assert.Null(first.Exception);
                Assert.Equal(HttpAuthority.From(_server.BaseAddress).ToString(), first.Authority);
            },
            second =>
            {
                Assert.Equal(2, second.Attempt);
                Assert.Equal(HttpStatusCode.BadGateway, second.StatusCode);
            });
    }

    [Fact]
    public async Task OnRetry_ConnectionDropped_ReceivesTheException()
    {
        var retries = new ConcurrentQueue<HttpRetryArguments>();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.OnRetry = retries.Enqueue));
        _server.Script("/drop", FaultResponse.Drop(), FaultResponse.Ok("after"));
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/drop"));

        using var response = await fixture.SendAsync(request).WaitAsync(Guard);

        Assert.Equal("after", await response.Content.ReadAsStringAsync());
        var retry = Assert.Single(retries);
        Assert.Same(request, retry.Request);
        Assert.Null(retry.StatusCode);
        Assert.IsType<HttpRequestException>(retry.Exception);
    }

    [Fact]
    public async Task BreakerCallbacks_OpenHalfOpenClose_NameTheRequestThatCausedEach()
    {
        var opened = new ConcurrentQueue<HttpCircuitArguments>();
        var halfOpened = new ConcurrentQueue<HttpCircuitArguments>();
        var closed = new ConcurrentQueue<HttpCircuitArguments>();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 0;
            o.FailureThreshold = 2;
            o.OnCircuitOpened = opened.Enqueue;
            o.OnCircuitHalfOpened = halfOpened.Enqueue;
            o.OnCircuitClosed = closed.Enqueue;
        }));
        _server.Script("/a", FaultResponse.Status(500));
        _server.Script("/b", FaultResponse.Status(500));
        (await fixture.GetAsync(_server.Url("/a")).WaitAsync(Guard)).Dispose();
        using var second = new HttpRequestMessage(HttpMethod.Get, _server.Url("/b"));
        (await fixture.SendAsync(second).WaitAsync(Guard)).Dispose();

        var open = Assert.Single(opened);
        Assert.Same(second, open.Request);
        Assert.Equal(1, open.Attempt);
        Assert.Equal(HttpStatusCode.InternalServerError, open.StatusCode);
        Assert.Equal(CircuitState.Open, open.Change.To);
        Assert.Equal(HttpAuthority.From(_server.BaseAddress).ToString(), open.Authority);

        fixture.Time.Advance(HttpResilienceOptions.Standard().BreakDuration);
        using var probe = new HttpRequestMessage(HttpMethod.Get, _server.Url("/probe"));
        (await fixture.SendAsync(probe).WaitAsync(Guard)).Dispose();

        Assert.Same(probe, Assert.Single(halfOpened).Request);
        var close = Assert.Single(closed);
        Assert.Same(probe, close.Request);
        Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        Assert.Equal(CircuitState.Closed, close.Change.To);
    }

    [Fact]
    public async Task OnHedging_CopyStarts_ReceivesRequestAndHedgedAttempt()
    {
        var hedges = new ConcurrentQueue<HttpHedgingArguments>();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 0;
            o.Hedging.Enabled = true;
            o.Hedging.Delay = TimeSpan.FromMinutes(1);
            o.OnHedging = hedges.Enqueue;
        }));
        _server.Script("/hedge", FaultResponse.Status(503), FaultResponse.Ok("copy"));
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/hedge"));

        using var response = await fixture.SendAsync(request).WaitAsync(Guard);

        Assert.Equal("copy", await response.Content.ReadAsStringAsync());
        var hedge = Assert.Single(hedges);
        Assert.Same(request, hedge.Request);
        Assert.Equal(1, hedge.Attempt);
        Assert.Equal(1, hedge.HedgedAttempt);
        Assert.Equal(TimeSpan.Zero, hedge.Delay);
    }

    [Fact]
    public async Task OnFallback_StaleResponseServed_ReceivesRequestAgeAndTheFailure()
    {
        var fallbacks = new ConcurrentQueue<HttpFallbackArguments>();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 0;
            o.CachedFallback.Enabled = true;
            o.OnFallback = fallbacks.Enqueue;
        }));
        _server.Script("/cached", FaultResponse.Ok("good"), FaultResponse.Status(503));
        (await fixture.GetAsync(_server.Url("/cached")).WaitAsync(Guard)).Dispose();
        fixture.Time.Advance(TimeSpan.FromSeconds(7));
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/cached"));

        using var response = await fixture.SendAsync(request).WaitAsync(Guard);

        Assert.Equal("good", await response.Content.ReadAsStringAsync());
        var fallback = Assert.Single(fallbacks);
        Assert.Same(request, fallback.Request);
        Assert.Equal(1, fallback.Attempts);
        Assert.Equal(TimeSpan.FromSeconds(7), fallback.Age);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, fallback.StatusCode);
    }

    [Fact]
    public async Task NoCallbacks_NoExtensionsAreBuilt()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());

        using var response = await fixture.GetAsync(_server.Url("/plain")).WaitAsync(Guard);

        Assert.Null(fixture.Handler.Engine.Extensions);
    }
}
