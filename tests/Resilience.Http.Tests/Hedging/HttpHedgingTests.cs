using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Http.Testing;
using Resilience.Http.Tests.Handler;

namespace Resilience.Http.Tests.Hedging;

/// <summary>Hedged GETs against a real Kestrel server on loopback, with the clock driven by hand.</summary>
public sealed class HttpHedgingTests : IAsyncLifetime
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(500);
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static HttpResilienceOptions Hedged(Action<HttpResilienceOptions>? configure = null) => HandlerFixture.Immediate(o =>
    {
        o.Hedging.Enabled = true;
        o.Hedging.Delay = Delay;
        configure?.Invoke(o);
    });

    [Fact]
    public async Task Get_SlowFirstResponse_HedgedCopyWins_AndTheFirstRequestIsAborted()
    {
        using var fixture = new HandlerFixture(Hedged());
        var gate = new HangGate();
        _server.Script("/items/1", FaultResponse.Hang(gate), FaultResponse.Ok("from the copy"));
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/items/1"));
        request.Headers.Add("X-Trace", "abc");

        var call = fixture.Client.SendAsync(request);
        await gate.Entered.WaitAsync(Guard);
        fixture.Time.Advance(Delay);
        using var response = await call.WaitAsync(Guard);

        Assert.Equal("from the copy", await response.Content.ReadAsStringAsync());
        Assert.Same(request, response.RequestMessage);
        await gate.Aborted.WaitAsync(Guard);
        var received = _server.RequestsTo("/items/1");
        Assert.Equal(2, received.Count);
        Assert.All(received, static r => Assert.Equal("abc", r.Header("X-Trace")));
    }

    [Fact]
    public async Task Get_FirstResponseBeforeTheDelay_NoCopyIsSent()
    {
        using var fixture = new HandlerFixture(Hedged());
        _server.Script("/fast", FaultResponse.Ok("first"));

        using var response = await fixture.Client.GetAsync(_server.Url("/fast")).WaitAsync(Guard);
        fixture.Time.Advance(Delay * 4);

        Assert.Equal("first", await response.Content.ReadAsStringAsync());
        Assert.Single(_server.RequestsTo("/fast"));
    }

    [Fact]
    public async Task Post_IsNeverHedged()
    {
        using var fixture = new HandlerFixture(Hedged());
        var gate = new HangGate();
        _server.Script("/orders", FaultResponse.Hang(gate, FaultResponse.Status(201, "created")));

        var call = fixture.Client.PostAsync(_server.Url("/orders"), new StringContent("{}"));
        await gate.Entered.WaitAsync(Guard);
        fixture.Time.Advance(Delay * 4);
        Assert.Single(_server.RequestsTo("/orders"));
        gate.Release();
        using var response = await call.WaitAsync(Guard);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Single(_server.RequestsTo("/orders"));
    }

    [Fact]
    public async Task Get_HedgingOffByDefault_NoCopyIsSent()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        var gate = new HangGate();
        _server.Script("/slow", FaultResponse.Hang(gate));

        var call = fixture.Client.GetAsync(_server.Url("/slow"));
        await gate.Entered.WaitAsync(Guard);
        fixture.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Single(_server.RequestsTo("/slow"));
        gate.Release();
        using var response = await call.WaitAsync(Guard);

        Assert.Equal("released", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_FirstResponseIs503_CopyIsSentAtOnce_AndThe503IsDisposed()
    {
        using var fixture = new HandlerFixture(Hedged(o =>
        {
            o.MaxRetries = 0;
            o.Hedging.Delay = TimeSpan.FromMinutes(1);
        }));
        _server.Script("/flaky", FaultResponse.Status(503, "busy"), FaultResponse.Ok("second"));

        using var response = await fixture.Client.GetAsync(_server.Url("/flaky")).WaitAsync(Guard);

        Assert.Equal("second", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, _server.RequestsTo("/flaky").Count);
        Assert.Equal(2, fixture.Tracking.Responses);
        Assert.Equal(1, fixture.Tracking.Undisposed);
    }

    [Fact]
    public async Task Get_429_SendsNoCopyAtOnce_TheServerAskedToSlowDown()
    {
        using var fixture = new HandlerFixture(Hedged(o =>
        {
            o.MaxRetries = 0;
            o.Hedging.Delay = TimeSpan.FromMinutes(1);
        }));
        _server.Script("/limited", FaultResponse.RetryAfterSeconds(429, 2), FaultResponse.Ok("too soon"));

        using var response = await fixture.Client.GetAsync(_server.Url("/limited")).WaitAsync(Guard);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Single(_server.RequestsTo("/limited"));
    }

    [Fact]
    public async Task Get_EveryCopyFails_EachAttemptCountsForTheAuthoritysBreaker()
    {
        using var fixture = new HandlerFixture(Hedged(o =>
        {
            o.MaxRetries = 0;
            o.FailureThreshold = 2;
            o.Hedging.Delay = TimeSpan.FromMinutes(1);
        }));
        _server.Script("/down", FaultResponse.Status(500), FaultResponse.Status(500));

        using var response = await fixture.Client.GetAsync(_server.Url("/down")).WaitAsync(Guard);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(2, _server.RequestsTo("/down").Count);
        Assert.Equal(CircuitState.Open, fixture.Handler.Engine.GetPipelines(_server.Url("/down")).Breaker.State);
        Assert.Equal(1, fixture.Tracking.Undisposed);
    }

    [Fact]
    public async Task Head_IsHedged()
    {
        using var fixture = new HandlerFixture(Hedged());
        var gate = new HangGate();
        _server.Script("/head", FaultResponse.Hang(gate), FaultResponse.Status(204));

        var call = fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, _server.Url("/head")));
        await gate.Entered.WaitAsync(Guard);
        fixture.Time.Advance(Delay);
        using var response = await call.WaitAsync(Guard);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(2, _server.RequestsTo("/head").Count);
    }

    [Fact]
    public async Task Get_WithAllowRetryFalse_IsNotHedged()
    {
        using var fixture = new HandlerFixture(Hedged());
        var gate = new HangGate();
        _server.Script("/once", FaultResponse.Hang(gate));
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/once"));
        request.Options.Set(HttpResilienceRequestOptions.AllowRetry, false);

        var call = fixture.Client.SendAsync(request);
        await gate.Entered.WaitAsync(Guard);
        fixture.Time.Advance(Delay * 4);
        Assert.Single(_server.RequestsTo("/once"));
        gate.Release();
        using var response = await call.WaitAsync(Guard);

        Assert.Equal("released", await response.Content.ReadAsStringAsync());
        Assert.Single(_server.RequestsTo("/once"));
    }

    [Fact]
    public async Task Post_SentFromAnotherPipelinesHedgedAttempt_KeepsItsBody()
    {
        // Hedging off here, but the call runs in attempt 1 of an outer hedged pipeline: the ambient attempt number must
        // not turn this POST into a bodiless copy.
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        var outer = new ResiliencePipelineBuilder("outer").AddHedging(new Resilience.Hedging.HedgingOptions { Delay = TimeSpan.FromMinutes(1) }).Build();

        var status = await outer.ExecuteAsync(
            static async (ctx, s) =>
            {
                if (ctx.HedgedAttempt == 0)
                {
                    throw new HttpRequestException("first provider down");
                }

                using var response = await s.Fixture.Client.PostAsync(s.Url, new StringContent("payload"), ctx.CancellationToken);
                return response.StatusCode;
            },
            ResilienceContextPool.Shared.Get(),
            (Fixture: fixture, Url: _server.Url("/orders"))).AsTask().WaitAsync(Guard);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("payload", System.Text.Encoding.UTF8.GetString(Assert.Single(_server.RequestsTo("/orders")).Body));
    }

    [Fact]
    public async Task AddResilienceHttpHandler_HedgingFromConfiguration_SendsACopyAfterA503()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Resilience:Http:catalog:MaxRetries"] = "0",
            ["Resilience:Http:catalog:Hedging:Enabled"] = "true",
            ["Resilience:Http:catalog:Hedging:Delay"] = "00:01:00",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new DelayRecordingTimeProvider());
        services.AddHttpClient("catalog", c => c.BaseAddress = _server.BaseAddress)
            .AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:catalog"));
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        _server.Script("/products", FaultResponse.Status(503), FaultResponse.Ok("products"));

        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("catalog");
        using var response = await client.GetAsync("products").WaitAsync(Guard);

        Assert.Equal("products", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, _server.RequestsTo("/products").Count);
    }

    [Fact]
    public async Task AddResilienceHttpHandler_HedgingOutOfRangeInConfiguration_FailsAtStartUpNamingTheKey()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Resilience:Http:catalog:Hedging:MaxHedgedAttempts"] = "0",
        }).Build();
        var services = new ServiceCollection();
        services.AddHttpClient("catalog").AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:catalog"));
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, static f => f.Contains("MaxHedgedAttempts", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_HedgingBindsFromConfiguration_AndOutOfRangeValuesAreRejected()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Http:Hedging:Enabled"] = "true",
            ["Http:Hedging:Delay"] = "00:00:00.250",
            ["Http:Hedging:MaxHedgedAttempts"] = "2",
        }).Build();
        var options = new HttpResilienceOptions();

        configuration.GetSection("Http").Bind(options);

        Assert.True(options.Hedging.Enabled);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.Hedging.Delay);
        Assert.Equal(2, options.Hedging.MaxHedgedAttempts);
        Assert.False(new HttpResilienceOptions().Hedging.Enabled);
        options.Hedging.MaxHedgedAttempts = 11;
        options.Hedging.Delay = TimeSpan.FromHours(2);
        var failures = HttpResilienceOptionsValidator.Instance.Validate(null, options).Failures!.ToList();
        Assert.Contains(failures, static f => f.Contains("MaxHedgedAttempts", StringComparison.Ordinal));
        Assert.Contains(failures, static f => f.Contains("Delay", StringComparison.Ordinal));
    }
}
