using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.FaultInjection;
using Resilience.Http.Testing;
using Resilience.Http.Tests.Handler;

namespace Resilience.Http.Tests.FaultInjection;

/// <summary>Fault injection per client, innermost in the handler's pipeline, against a real Kestrel server on loopback.</summary>
public sealed class HttpFaultInjectionTests : IAsyncLifetime
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task InjectedResponse_MeetsRetryAndBreakerAsARealOne_AndNothingIsSent()
    {
        var retries = new ConcurrentQueue<HttpRetryArguments>();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 2;
            o.FailureThreshold = 3;
            o.OnRetry = retries.Enqueue;
            o.FaultInjection.Enabled = true;
            o.FaultInjection.Response.Enabled = true;
            o.FaultInjection.Response.Rate = 1;
            o.FaultInjection.Response.StatusCode = 503;
        }));
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/chaos"));

        using var response = await fixture.SendAsync(request).WaitAsync(Guard);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(2, retries.Count);
        Assert.All(retries, r => Assert.Same(request, r.Request));
        Assert.Equal(0, _server.RequestCount);
        Assert.Equal(CircuitState.Open, fixture.Handler.Engine.GetPipelines(_server.BaseAddress).Breaker.State);
    }

    [Fact]
    public async Task InjectedResponses_OpenTheCircuit_RetriesStopForItAsForRealOnes()
    {
        var retries = new ConcurrentQueue<HttpRetryArguments>();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 3;
            o.FailureThreshold = 2;
            o.OnRetry = retries.Enqueue;
            o.FaultInjection.Enabled = true;
            o.FaultInjection.Response.Enabled = true;
            o.FaultInjection.Response.Rate = 1;
        }));

        using var response = await fixture.GetAsync(_server.Url("/chaos")).WaitAsync(Guard);

        // The second injected 503 opened the circuit: the retries stop there with that answer, no attempt meets the open
        // circuit (which would report the request as never sent).
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Injected fault", response.ReasonPhrase);
        Assert.Equal(HttpResilienceOutcome.RetriesStoppedByOpenCircuit, HttpResilienceResponse.GetOutcome(response));
        Assert.Single(retries);
        Assert.Equal(0, _server.RequestCount);
    }

    [Fact]
    public async Task InjectedException_IsAConnectionFailure_RetriedThenAnswered()
    {
        var retries = new ConcurrentQueue<HttpRetryArguments>();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 1;
            o.OnRetry = retries.Enqueue;
            o.FaultInjection.Enabled = true;
            o.FaultInjection.Exception.Enabled = true;
            o.FaultInjection.Exception.Rate = 1;
        }));

        using var response = await fixture.GetAsync(_server.Url("/boom")).WaitAsync(Guard);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var retry = Assert.Single(retries);
        Assert.IsType<InjectedFaultException>(Assert.IsType<HttpRequestException>(retry.Exception).InnerException);
        Assert.Equal(0, _server.RequestCount);
    }

    [Fact]
    public async Task InjectedLatency_DelaysTheAttemptOnTheClock_ThenSendsIt()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.FaultInjection.Enabled = true;
            o.FaultInjection.Latency.Enabled = true;
            o.FaultInjection.Latency.Rate = 1;
            o.FaultInjection.Latency.Delay = TimeSpan.FromSeconds(3);
        }));

        using var response = await fixture.GetAsync(_server.Url("/slow")).WaitAsync(Guard);

        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Contains(TimeSpan.FromSeconds(3), fixture.Time.Delays);
        Assert.Equal(1, _server.RequestCount);
    }

    [Fact]
    public async Task EnabledGenerator_InjectsOnlyIntoTheRequestsItAccepts()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 0;
            o.FaultInjection.Enabled = true;
            o.FaultInjection.Response.Enabled = true;
            o.FaultInjection.Response.Rate = 1;
            o.FaultInjection.Response.StatusCode = 500;
            o.FaultInjection.EnabledGenerator = static r => r.Headers.Contains("X-Chaos");
        }));
        using var chaos = new HttpRequestMessage(HttpMethod.Get, _server.Url("/a"));
        chaos.Headers.Add("X-Chaos", "1");

        using var injected = await fixture.SendAsync(chaos).WaitAsync(Guard);
        using var real = await fixture.GetAsync(_server.Url("/b")).WaitAsync(Guard);

        Assert.Equal(HttpStatusCode.InternalServerError, injected.StatusCode);
        Assert.Same(chaos, injected.RequestMessage);
        Assert.Equal(HttpStatusCode.OK, real.StatusCode);
        Assert.Equal(["/b"], _server.Requests.Select(static r => r.Path));
    }

    [Fact]
    public async Task OwnInjector_SwitchedAndAdjustedAtRunTime()
    {
        var injector = new FaultInjector(new FaultInjectionOptions<HttpResponseMessage>
        {
            ResultRate = 1,
            ResultGenerator = static ctx => new HttpResponseMessage(HttpStatusCode.BadGateway) { RequestMessage = HttpResilienceProperties.GetRequest(ctx) },
        });
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 0;
            o.FaultInjection.Injector = injector;
        }));

        using var before = await fixture.GetAsync(_server.Url("/1")).WaitAsync(Guard);
        injector.Enabled = true;
        using var during = await fixture.GetAsync(_server.Url("/2")).WaitAsync(Guard);
        injector.ResultRate = 0;
        using var after = await fixture.GetAsync(_server.Url("/3")).WaitAsync(Guard);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, during.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(["/1", "/3"], _server.Requests.Select(static r => r.Path));
    }

    [Fact]
    public void Binding_FaultInjectionKeys_AreBoundAndValidated()
    {
        var options = Bind(
            ("FaultInjection:Enabled", "true"),
            ("FaultInjection:Response:Enabled", "true"),
            ("FaultInjection:Response:Rate", "0.25"),
            ("FaultInjection:Response:StatusCode", "429"),
            ("FaultInjection:Latency:Enabled", "true"),
            ("FaultInjection:Latency:Delay", "00:00:01"),
            ("FaultInjection:Exception:Rate", "0.5"));

        Assert.True(options.FaultInjection.Enabled);
        Assert.Equal(0.25, options.FaultInjection.Response.Rate);
        Assert.Equal(429, options.FaultInjection.Response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), options.FaultInjection.Latency.Delay);
        Assert.False(options.FaultInjection.Exception.Enabled);
        Assert.Equal(0.5, options.FaultInjection.Exception.Rate);
    }

    [Fact]
    public void Binding_UnknownKeyAndBadRate_FailStartupWithTheirPaths()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Bind(
            ("FaultInjection:Response:Ratio", "0.1"),
            ("FaultInjection:Exception:Rate", "1.5")));

        Assert.Equal(
            [
                "Resilience:Http:chaos:FaultInjection:Exception:Rate: must be between 0 and 1.",
                "Resilience:Http:chaos:FaultInjection:Response:Ratio: unknown key; expected one of Enabled, Rate, StatusCode.",
            ],
            error.Failures.Order(StringComparer.Ordinal));
    }

    private static HttpResilienceOptions Bind(params (string Key, string Value)[] values)
    {
        const string Section = "Resilience:Http:chaos";
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(Section + ":" + v.Key, v.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddHttpClient("chaos").AddResilienceHttpHandler(configuration.GetSection(Section));
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get("chaos");
    }
}
