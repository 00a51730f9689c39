using System.Net;
using Resilience.Http.Testing;

namespace Resilience.Http.Tests.Handler;

public sealed class ResilienceHttpHandlerFallbackTests : IAsyncLifetime
{
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static HttpResilienceOptions Cached(Action<HttpResilienceOptions>? configure = null) => HandlerFixture.Immediate(o =>
    {
        o.CachedFallback.Enabled = true;
        o.CachedFallback.MaxStaleness = TimeSpan.FromMinutes(5);
        o.MaxRetries = 1;
        configure?.Invoke(o);
    });

    [Fact]
    public async Task Get_FailsAfterEarlierSuccess_ServesStoredWithAgeAndMarker()
    {
        using var fixture = new HandlerFixture(Cached());
        _server.Enqueue(FaultResponse.Ok("v1"));
        (await fixture.GetAsync(_server.Url("/item"))).Dispose();
        _server.Default = FaultResponse.Status(503);
        fixture.Time.Advance(TimeSpan.FromSeconds(90));

        using var response = await fixture.GetAsync(_server.Url("/item"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("v1", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpResilienceOutcome.Stale, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(TimeSpan.FromSeconds(90), response.Headers.Age);
        Assert.Equal(2, HttpResilienceResponse.GetAttempts(response));
        Assert.Equal(3, _server.RequestCount);
        Assert.Equal(0, fixture.Tracking.Undisposed);
    }

    [Fact]
    public async Task Get_StoredOlderThanMaxStaleness_FailureSurfaces()
    {
        using var fixture = new HandlerFixture(Cached());
        _server.Enqueue(FaultResponse.Ok("v1"));
        (await fixture.GetAsync(_server.Url("/item"))).Dispose();
        _server.Default = FaultResponse.Status(503);
        fixture.Time.Advance(TimeSpan.FromMinutes(6));

        using var response = await fixture.GetAsync(_server.Url("/item"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.RetriesExhausted, HttpResilienceResponse.GetOutcome(response));
    }

    [Fact]
    public async Task Get_FreshAnswer_ReplacesStoredOne()
    {
        using var fixture = new HandlerFixture(Cached());
        _server.Enqueue(FaultResponse.Ok("v1"), FaultResponse.Ok("v2"));
        (await fixture.GetAsync(_server.Url("/item"))).Dispose();
        using (var fresh = await fixture.GetAsync(_server.Url("/item")))
        {
            Assert.Equal(HttpResilienceOutcome.None, HttpResilienceResponse.GetOutcome(fresh));
            Assert.Equal("v2", await fresh.Content.ReadAsStringAsync());
        }

        _server.Default = FaultResponse.Drop();
        using var stale = await fixture.GetAsync(_server.Url("/item"));

        Assert.Equal("v2", await stale.Content.ReadAsStringAsync());
        Assert.Equal(HttpResilienceOutcome.Stale, HttpResilienceResponse.GetOutcome(stale));
    }

    [Fact]
    public async Task Get_CircuitOpen_ServesStored()
    {
        using var fixture = new HandlerFixture(Cached(o =>
        {
            o.MaxRetries = 0;
            o.FailureThreshold = 1;
        }));
        _server.Enqueue(FaultResponse.Ok("v1"), FaultResponse.Status(500));
        (await fixture.GetAsync(_server.Url("/item"))).Dispose();
        (await fixture.GetAsync(_server.Url("/item"))).Dispose();

        using var response = await fixture.GetAsync(_server.Url("/item"));

        Assert.Equal(2, _server.RequestCount);
        Assert.Equal("v1", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpResilienceOutcome.Stale, HttpResilienceResponse.GetOutcome(response));
    }

    [Fact]
    public async Task Post_Fails_NeverServedFromStore()
    {
        using var fixture = new HandlerFixture(Cached());
        _server.Enqueue(FaultResponse.Ok("created"));
        (await fixture.SendAsync(new HttpRequestMessage(HttpMethod.Post, _server.Url("/item")) { Content = new StringContent("a") })).Dispose();
        (await fixture.GetAsync(_server.Url("/item"))).Dispose();
        _server.Default = FaultResponse.Status(503, "down");

        using var response = await fixture.SendAsync(new HttpRequestMessage(HttpMethod.Post, _server.Url("/item")) { Content = new StringContent("b") });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.NotRetried, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal("down", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_NonTransientFailure_NotReplacedByStored()
    {
        using var fixture = new HandlerFixture(Cached());
        _server.Enqueue(FaultResponse.Ok("v1"), FaultResponse.Status(404));
        (await fixture.GetAsync(_server.Url("/item"))).Dispose();

        using var response = await fixture.GetAsync(_server.Url("/item"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Get_OtherCredentials_NotServedAnotherCallersResponse()
    {
        using var fixture = new HandlerFixture(Cached());
        _server.Enqueue(FaultResponse.Ok("alice's"));
        var alice = new HttpRequestMessage(HttpMethod.Get, _server.Url("/me"));
        alice.Headers.Authorization = new("Bearer", "alice");
        (await fixture.SendAsync(alice)).Dispose();
        _server.Default = FaultResponse.Status(503);
        var bob = new HttpRequestMessage(HttpMethod.Get, _server.Url("/me"));
        bob.Headers.Authorization = new("Bearer", "bob");

        using var response = await fixture.SendAsync(bob);

        Assert.Equal(HttpResilienceOutcome.RetriesExhausted, HttpResilienceResponse.GetOutcome(response));
    }
}
