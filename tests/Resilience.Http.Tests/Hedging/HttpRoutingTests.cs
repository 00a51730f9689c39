using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Http.Testing;
using Resilience.Http.Tests.Handler;

namespace Resilience.Http.Tests.Hedging;

/// <summary>Hedging to other hosts: ordered and weighted endpoint groups, each endpoint a real Kestrel server on loopback.</summary>
public sealed class HttpRoutingTests : IAsyncLifetime
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(500);
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

    private static HttpResilienceOptions Routed(HttpRoutingMode mode, params (Uri Uri, double Weight)[] groups) => HandlerFixture.Immediate(o =>
    {
        o.Hedging.Enabled = true;
        o.Hedging.Delay = Delay;
        o.Hedging.Routing.Mode = mode;
        foreach (var (uri, weight) in groups)
        {
            var group = new HttpEndpointGroup { Weight = weight };
            group.Endpoints.Add(new HttpEndpoint { Uri = uri });
            o.Hedging.Routing.Groups.Add(group);
        }
    });

    [Fact]
    public async Task Ordered_PrimaryHangsPastTheDelay_TheHedgeGoesToTheSecondEndpoint_AndItsAnswerWins()
    {
        using var fixture = new HandlerFixture(Routed(HttpRoutingMode.Ordered, (_a.BaseAddress, 1), (_b.BaseAddress, 1)));
        var gate = new HangGate();
        _a.Script("/items/7", FaultResponse.Hang(gate));
        _b.Script("/items/7", FaultResponse.Ok("from b"));
        var original = new Uri("http://placeholder.invalid/items/7?view=full");
        using var request = new HttpRequestMessage(HttpMethod.Get, original);

        var call = fixture.Client.SendAsync(request);
        await gate.Entered.WaitAsync(Guard);
        fixture.Time.Advance(Delay);
        using var response = await call.WaitAsync(Guard);

        Assert.Equal("from b", await response.Content.ReadAsStringAsync());
        await gate.Aborted.WaitAsync(Guard);
        var atB = Assert.Single(_b.Requests);
        Assert.Equal("/items/7", atB.Path);
        Assert.Equal("?view=full", atB.Query);
        Assert.Single(_a.Requests);
        Assert.Same(request, response.RequestMessage);
        Assert.Equal(original, request.RequestUri);
    }

    [Fact]
    public async Task Weighted_SeededRandom_HitsEndpointsInTheSeededProportion()
    {
        const int Requests = 200;
        var options = Routed(HttpRoutingMode.Weighted, (_a.BaseAddress, 3), (_b.BaseAddress, 1));
        options.Hedging.Routing.Random = new Random(20);
        using var fixture = new HandlerFixture(options);

        for (var i = 0; i < Requests; i++)
        {
            // Sent without driving the clock: no hedging delay passes, so every request is one attempt.
            using var response = await fixture.Client.GetAsync(new Uri("http://placeholder.invalid/w")).WaitAsync(Guard);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // The same seed replayed: one draw per request picks a group, A when it falls in A's 3 of 4.
        var replay = new Random(20);
        var expectedA = 0;
        for (var i = 0; i < Requests; i++)
        {
            expectedA += replay.NextDouble() * 4 < 3 ? 1 : 0;
        }

        Assert.Equal(expectedA, _a.RequestCount);
        Assert.Equal(Requests - expectedA, _b.RequestCount);
        Assert.InRange(_a.RequestCount, 130, 170);
    }

    [Fact]
    public async Task DeadEndpoint_ItsBreakerOpens_WithoutAffectingTheOther()
    {
        var options = Routed(HttpRoutingMode.Ordered, (_a.BaseAddress, 1), (_b.BaseAddress, 1));
        options.MaxRetries = 0;
        options.FailureThreshold = 2;
        using var fixture = new HandlerFixture(options);
        _a.Default = FaultResponse.Status(500, "dead");
        _b.Default = FaultResponse.Ok("alive");

        for (var i = 0; i < 3; i++)
        {
            // The clock stands still: each failure moves on to the next endpoint at once, and A's break does not end.
            using var response = await fixture.Client.GetAsync(new Uri(_a.BaseAddress, "/r")).WaitAsync(Guard);
            Assert.Equal("alive", await response.Content.ReadAsStringAsync());
        }

        // Two failures opened A's breaker; the third request's primary was refused by it and went on to B at once.
        Assert.Equal(2, _a.RequestCount);
        Assert.Equal(3, _b.RequestCount);
        Assert.Equal(CircuitState.Open, fixture.Handler.Engine.GetPipelines(_a.BaseAddress).Breaker.State);
        Assert.Equal(CircuitState.Closed, fixture.Handler.Engine.GetPipelines(_b.BaseAddress).Breaker.State);
    }

    [Fact]
    public void Binding_GroupsAndEndpoints_BoundFromConfiguration()
    {
        var options = Bind(
            ("Hedging:Enabled", "true"),
            ("Hedging:Routing:Mode", "Weighted"),
            ("Hedging:Routing:Groups:0:Weight", "9"),
            ("Hedging:Routing:Groups:0:Endpoints:0", "https://eu.example"),
            ("Hedging:Routing:Groups:1:Weight", "1"),
            ("Hedging:Routing:Groups:1:Endpoints:0:Uri", "https://us.example:8443"),
            ("Hedging:Routing:Groups:1:Endpoints:0:Weight", "2"));

        var routing = options.Hedging.Routing;
        Assert.Equal(HttpRoutingMode.Weighted, routing.Mode);
        Assert.Equal(2, routing.Groups.Count);
        Assert.Equal(9, routing.Groups[0].Weight);
        Assert.Equal(new Uri("https://eu.example"), Assert.Single(routing.Groups[0].Endpoints).Uri);
        var us = Assert.Single(routing.Groups[1].Endpoints);
        Assert.Equal(new Uri("https://us.example:8443"), us.Uri);
        Assert.Equal(2, us.Weight);
    }

    [Fact]
    public void Binding_BadGroups_FailStartupWithEveryPath()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Bind(
            ("Hedging:Routing:Groups:0:Weight", "0"),
            ("Hedging:Routing:Groups:0:Endpoints:0", "eu.example/path"),
            ("Hedging:Routing:Groups:0:Endpoints:1", "https://eu.example/api"),
            ("Hedging:Routing:Groups:0:Endpoints:2:Url", "https://x.example"),
            ("Hedging:Routing:Groups:1:Weight", "1")));

        const string At = "Resilience:Http:routed:Hedging:Routing:Groups";
        Assert.Equal(
            [
                At + ": routes hedged requests only: set Hedging:Enabled to true, or remove the groups.",
                At + ":0:Endpoints:0:Uri: must be an absolute http or https URI (was 'eu.example/path').",
                At + ":0:Endpoints:1:Uri: must name only scheme, host and port: the request's path and query are kept (was 'https://eu.example/api').",
                At + ":0:Endpoints:2:Uri: is required: an absolute http or https URI.",
                At + ":0:Endpoints:2:Url: unknown key; expected one of Uri, Weight.",
                At + ":0:Weight: must be above 0 (was 0).",
                At + ":1:Endpoints: must list at least one endpoint.",
            ],
            error.Failures.Order(StringComparer.Ordinal));
    }

    private static HttpResilienceOptions Bind(params (string Key, string Value)[] values)
    {
        const string Section = "Resilience:Http:routed";
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(Section + ":" + v.Key, v.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddHttpClient("routed").AddResilienceHttpHandler(configuration.GetSection(Section));
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get("routed");
    }
}
