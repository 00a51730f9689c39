using System.Net;
using Resilience.CircuitBreaking;
using Resilience.Http.Testing;
using Xunit.Abstractions;

namespace Resilience.Http.Tests.Handler;

public sealed class ResilienceHttpHandlerBreakerTests(ITestOutputHelper output) : IAsyncLifetime
{
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

    private static HttpResilienceOptions Breaking(Action<HttpResilienceOptions>? configure = null) => HandlerFixture.Immediate(o =>
    {
        o.MaxRetries = 0;
        o.FailureThreshold = 2;
        o.BreakDuration = TimeSpan.FromSeconds(30);
        configure?.Invoke(o);
    });

    [Fact]
    public async Task OpenCircuit_Synthesized503WithRemainingBreakAndMarker()
    {
        using var fixture = new HandlerFixture(Breaking());
        _a.Default = FaultResponse.Status(500);
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();

        using var rejected = await fixture.GetAsync(_a.Url("/x"));
        fixture.Time.Advance(TimeSpan.FromSeconds(10));
        using var later = await fixture.GetAsync(_a.Url("/x"));

        Assert.Equal(2, _a.RequestCount);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal(HttpResilienceOutcome.CircuitOpen, HttpResilienceResponse.GetOutcome(rejected));
        Assert.Equal("circuit-open", rejected.Headers.GetValues(HttpResilienceResponse.OutcomeHeader).Single());
        Assert.Equal(TimeSpan.FromSeconds(30), rejected.Headers.RetryAfter?.Delta);
        Assert.Equal(TimeSpan.FromSeconds(20), later.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task OpenCircuit_ExceptionSurface_ThrowsTypedWithRemainingBreak()
    {
        using var fixture = new HandlerFixture(Breaking(o => o.FailureSurface = HttpFailureSurface.Exception));
        _a.Default = FaultResponse.Drop();
        await Assert.ThrowsAsync<HttpResilienceException>(() => fixture.GetAsync(_a.Url("/x")));
        await Assert.ThrowsAsync<HttpResilienceException>(() => fixture.GetAsync(_a.Url("/x")));

        var error = await Assert.ThrowsAsync<HttpResilienceException>(() => fixture.GetAsync(_a.Url("/x?token=secret")));

        Assert.Equal(HttpResilienceOutcome.CircuitOpen, error.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(30), error.RetryAfter);
        Assert.IsType<BrokenCircuitException>(error.InnerException);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, _a.RequestCount);
    }

    [Fact]
    public async Task OpenCircuit_AfterBreak_ProbeSucceeds_Closes()
    {
        using var fixture = new HandlerFixture(Breaking());
        _a.Enqueue(FaultResponse.Status(503), FaultResponse.Status(503));
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();

        fixture.Time.Advance(TimeSpan.FromSeconds(30));
        using var probe = await fixture.GetAsync(_a.Url("/x"));

        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        Assert.Equal(CircuitState.Closed, fixture.Handler.Engine.GetPipelines(_a.BaseAddress).Breaker.State);
    }

    [Fact]
    public async Task PerAuthority_HostAOpen_HostBUnaffected()
    {
        using var fixture = new HandlerFixture(Breaking());
        _a.Default = FaultResponse.Status(503);
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();

        using var fromA = await fixture.GetAsync(_a.Url("/x"));
        using var fromB = await fixture.GetAsync(_b.Url("/y"));

        Assert.Equal(HttpResilienceOutcome.CircuitOpen, HttpResilienceResponse.GetOutcome(fromA));
        Assert.Equal(HttpStatusCode.OK, fromB.StatusCode);
        Assert.Equal(2, _a.RequestCount);
        Assert.Equal(1, _b.RequestCount);
    }

    [Fact]
    public async Task SharedScope_HostAOpen_HostBRejectedToo()
    {
        using var fixture = new HandlerFixture(Breaking(o => o.BreakerScope = HttpCircuitBreakerScope.Shared));
        _a.Default = FaultResponse.Status(503);
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();

        using var fromB = await fixture.GetAsync(_b.Url("/y"));

        Assert.Equal(HttpResilienceOutcome.CircuitOpen, HttpResilienceResponse.GetOutcome(fromB));
        Assert.Equal(0, _b.RequestCount);
    }

    [Fact]
    public async Task Breakers_RegisteredPerAuthorityInRegistry_AndEvictedBeyondLimit()
    {
        using var registry = new CircuitBreakerRegistry();
        using var fixture = new HandlerFixture(Breaking(o => o.MaxTrackedAuthorities = 1), "reg", registry);

        (await fixture.GetAsync(_a.Url("/x?api_key=secret"))).Dispose();
        var afterA = registry.GetStatusReport().Select(s => s.Name).ToArray();
        (await fixture.GetAsync(_b.Url("/y"))).Dispose();
        var afterB = registry.GetStatusReport().Select(s => s.Name).ToArray();

        Assert.Equal([$"reg:http://127.0.0.1:{_a.BaseAddress.Port}"], afterA);
        Assert.Equal([$"reg:http://127.0.0.1:{_b.BaseAddress.Port}"], afterB);
    }

    [Fact]
    public async Task Post_OpenCircuit_RejectedWithoutSending()
    {
        using var fixture = new HandlerFixture(Breaking());
        _a.Default = FaultResponse.Status(500);
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();

        using var response = await fixture.SendAsync(new HttpRequestMessage(HttpMethod.Post, _a.Url("/orders")) { Content = new StringContent("{}") });

        Assert.Equal(HttpResilienceOutcome.CircuitOpen, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(2, _a.RequestCount);
    }

    [Fact]
    public async Task RetryBudget_Empty_GivesUpWithBudgetOutcome()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.FailureThreshold = 1000;
            o.RetryBudget.MaxTokens = 2;
            o.RetryBudget.MinRetriesPerSecond = 0;
        }));
        _a.Default = FaultResponse.Status(503);
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();

        using var response = await fixture.GetAsync(_a.Url("/x"));

        // Two tokens: the first call retries twice, then the budget stops it; the second call gets no retry at all.
        Assert.Equal(HttpResilienceOutcome.RetryBudgetExhausted, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(4, _a.RequestCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Outage_200CallsAgainstFailingServer_FewRequestsReachIt(bool protectedClient)
    {
        // 200 calls, 100 ms apart (20 s), against a server that answers 503 to everything. Protected: the standard
        // preset with a 5 s break (Microsoft's break, to compare like with like) and the default retry budget.
        var options = HandlerFixture.Immediate(o =>
        {
            o.BreakDuration = TimeSpan.FromSeconds(5);
            if (!protectedClient)
            {
                o.FailureThreshold = 10_000;
                o.RetryBudget.Enabled = false;
            }
        });
        using var fixture = new HandlerFixture(options);
        _a.Default = FaultResponse.Status(503);
        var outcomes = new Dictionary<HttpResilienceOutcome, int>();

        for (var i = 0; i < 200; i++)
        {
            using var response = await fixture.GetAsync(_a.Url("/llm"));
            var outcome = HttpResilienceResponse.GetOutcome(response);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            fixture.Time.Advance(TimeSpan.FromMilliseconds(100));
        }

        output.WriteLine($"protected={protectedClient}: {_a.RequestCount} requests reached the server; outcomes: {string.Join(", ", outcomes.Select(p => $"{p.Key}={p.Value}"))}");
        if (protectedClient)
        {
            // 5 failures open the circuit, then one probe per 5 s break: never more than a handful.
            Assert.InRange(_a.RequestCount, 5, 12);
            Assert.True(outcomes[HttpResilienceOutcome.CircuitOpen] >= 190);
        }
        else
        {
            Assert.Equal(800, _a.RequestCount);
        }
    }

    [Fact]
    public async Task BreakerLookup_PerAuthority_FindsTheHandlersBreakerByUriNotByNamePrefix()
    {
        using var registry = new CircuitBreakerRegistry();
        using var fixture = new HandlerFixture(Breaking(), "llm-a", registry);
        using var other = new HandlerFixture(Breaking(), "llm-ab", registry);
        _a.Default = FaultResponse.Status(500);
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();
        (await fixture.GetAsync(_a.Url("/x"))).Dispose();
        (await other.GetAsync(_a.Url("/y"))).Dispose();

        // Any URI of the authority finds it (path, query and host case aside); another client or authority does not.
        var breaker = registry.GetHttpCircuitBreaker("llm-a", new Uri(_a.Url("/other/path?q=1").ToString().ToUpperInvariant().Replace("HTTP://", "http://", StringComparison.Ordinal)));
        Assert.Same(fixture.Handler.Engine.GetPipelines(_a.BaseAddress).Breaker, breaker);
        Assert.Equal(CircuitState.Open, breaker!.State);
        Assert.Equal(CircuitState.Closed, registry.GetHttpCircuitBreaker("llm-ab", _a.BaseAddress)!.State);
        Assert.Null(registry.GetHttpCircuitBreaker("llm-a", _b.BaseAddress));
        Assert.Null(registry.GetHttpCircuitBreaker("llm", _a.BaseAddress));
        Assert.Throws<ArgumentException>(() => registry.GetHttpCircuitBreaker("llm-a", new Uri("/x", UriKind.Relative)));
    }

    [Fact]
    public void BreakerLookup_SharedScope_FindsTheClientsOneBreakerForAnyAuthority()
    {
        using var registry = new CircuitBreakerRegistry();
        using var fixture = new HandlerFixture(Breaking(o => o.BreakerScope = HttpCircuitBreakerScope.Shared), "shared", registry);

        var breaker = registry.GetHttpCircuitBreaker("shared", _b.BaseAddress);

        Assert.NotNull(breaker);
        Assert.Same(breaker, registry.GetHttpCircuitBreaker("shared", _a.BaseAddress));
        Assert.Same(fixture.Handler.Engine.GetPipelines(_a.BaseAddress).Breaker, breaker);
    }
}
