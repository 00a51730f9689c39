using System.Net;
using Resilience.CircuitBreaking;
using Resilience.Http.Testing;

namespace Resilience.Http.Tests.Handler;

/// <summary>What the caller gets when the handler stops: the truth about what was sent, and the upstream's own answer when there is one.</summary>
public sealed class ResilienceHttpHandlerFailureSurfaceTests : IAsyncLifetime
{
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static HttpRequestMessage KeyedPost(Uri uri)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new StringContent("{\"order\":1}") };
        request.Headers.Add("Idempotency-Key", "order-1");
        return request;
    }

    [Fact]
    public async Task KeyedPost_FailureOpensCircuit_UpstreamResponseWithOneAttemptNotCircuitOpen()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.FailureThreshold = 1));
        _server.Default = FaultResponse.Status(500, "boom", headers: ("X-Upstream", "yes"));

        using var response = await fixture.SendAsync(KeyedPost(_server.Url("/orders")));

        Assert.Equal(1, _server.RequestCount);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("boom", await response.Content.ReadAsStringAsync());
        Assert.Equal("yes", response.Headers.GetValues("X-Upstream").Single());
        Assert.Equal(HttpResilienceOutcome.RetriesStoppedByOpenCircuit, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(1, HttpResilienceResponse.GetAttempts(response));
        Assert.Equal("1", response.Headers.GetValues(HttpResilienceResponse.AttemptsHeader).Single());
    }

    [Fact]
    public async Task KeyedPost_FailureOpensCircuit_ExceptionSaysSentAndStoppedByCircuit()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.FailureThreshold = 1;
            o.FailureSurface = HttpFailureSurface.Exception;
        }));
        _server.Default = FaultResponse.Status(500, "boom");

        var error = await Assert.ThrowsAsync<HttpResilienceException>(() => fixture.SendAsync(KeyedPost(_server.Url("/orders"))));

        Assert.Equal(1, _server.RequestCount);
        Assert.Equal(HttpResilienceOutcome.RetriesStoppedByOpenCircuit, error.Outcome);
        Assert.Equal(1, error.Attempts);
        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.DoesNotContain("not sent", error.Message, StringComparison.Ordinal);
        Assert.Contains("1 attempt was sent", error.Message, StringComparison.Ordinal);
        Assert.Contains("circuit is now open", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, fixture.Tracking.Undisposed);
    }

    [Fact]
    public async Task Get_FailureOpensCircuitMidRetries_UpstreamResponseAndAttemptsSent()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.FailureThreshold = 2));
        _server.Default = FaultResponse.Status(503, "down");

        using var response = await fixture.GetAsync(_server.Url("/x"));

        Assert.Equal(2, _server.RequestCount);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("down", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpResilienceOutcome.RetriesStoppedByOpenCircuit, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(2, HttpResilienceResponse.GetAttempts(response));
    }

    [Fact]
    public async Task Get_AnotherRequestOpensCircuitDuringRetryDelay_Synthesized503SaysOneAttemptSent()
    {
        using var fixture = new HandlerFixture(new HttpResilienceOptions { FailureThreshold = 2 });
        _server.Script("/a", FaultResponse.RetryAfterSeconds(503, 5));
        _server.Script("/b", FaultResponse.Status(500));

        var first = fixture.Client.GetAsync(_server.Url("/a"));
        while (fixture.Time.Delays.Count == 0 && !first.IsCompleted)
        {
            await Task.Yield();
        }

        var second = new HttpRequestMessage(HttpMethod.Get, _server.Url("/b"));
        second.Options.Set(HttpResilienceRequestOptions.AllowRetry, false);
        (await fixture.Client.SendAsync(second)).Dispose();
        fixture.Time.Advance(TimeSpan.FromSeconds(5));
        using var response = await first;

        Assert.Equal(2, _server.RequestCount);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.RetriesStoppedByOpenCircuit, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(1, HttpResilienceResponse.GetAttempts(response));
        Assert.Equal(TimeSpan.FromSeconds(25), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Get_CircuitAlreadyOpen_NotSentZeroAttempts()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.FailureSurface = HttpFailureSurface.Exception));
        fixture.Handler.Engine.GetPipelines(_server.BaseAddress).Breaker.Isolate();

        var error = await Assert.ThrowsAsync<HttpResilienceException>(() => fixture.GetAsync(_server.Url("/x")));

        Assert.Equal(0, _server.RequestCount);
        Assert.Equal(HttpResilienceOutcome.CircuitOpen, error.Outcome);
        Assert.Equal(0, error.Attempts);
        Assert.Null(error.StatusCode);
        Assert.Contains("not sent", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_RetriesExhaustedWith500Body_UpstreamResponseIntactWithMarker()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.MaxRetries = 2));
        _server.Enqueue(FaultResponse.Status(500), FaultResponse.Status(502), FaultResponse.Status(500, "{\"error\":\"boom\"}", "application/json", headers: ("X-Request-Id", "r-3")));

        using var response = await fixture.GetAsync(_server.Url("/down"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("{\"error\":\"boom\"}", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("r-3", response.Headers.GetValues("X-Request-Id").Single());
        Assert.Equal(HttpResilienceOutcome.RetriesExhausted, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal("retries-exhausted", response.Headers.GetValues(HttpResilienceResponse.OutcomeHeader).Single());
        Assert.Equal(3, HttpResilienceResponse.GetAttempts(response));
        Assert.Equal(3, _server.RequestCount);
    }

    [Fact]
    public async Task Get_429RetryAfter60BeyondDeadline_UpstreamStatusAndHintAtOnce()
    {
        using var fixture = new HandlerFixture(new HttpResilienceOptions());
        var start = fixture.Time.GetUtcNow();
        _server.Default = FaultResponse.Status(429, "slow down", headers: ("Retry-After", "60"));

        using var response = await fixture.GetAsync(_server.Url("/limited"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(60), response.Headers.RetryAfter?.Delta);
        Assert.Equal("slow down", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpResilienceOutcome.RetryAfterExceedsDeadline, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(1, _server.RequestCount);
        Assert.Empty(fixture.Time.Delays);
        Assert.Equal(start, fixture.Time.GetUtcNow());
    }

    [Fact]
    public async Task Get_MaxRetriesZero_OutcomeNotRetriedNotExhausted()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.MaxRetries = 0));
        _server.Default = FaultResponse.Status(500, "boom");

        using var response = await fixture.GetAsync(_server.Url("/once"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("boom", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpResilienceOutcome.NotRetried, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(1, HttpResilienceResponse.GetAttempts(response));
    }

    [Fact]
    public async Task Get_NoHintAndNoTimeLeftForBackoff_UpstreamResponseWithoutWaiting()
    {
        // The attempt answers just before the total timeout: no backoff delay fits, so the answer is returned now
        // instead of sleeping into the timeout and replacing it with a 504.
        var options = new HttpResilienceOptions { TotalTimeout = TimeSpan.FromSeconds(10), AttemptTimeout = TimeSpan.FromSeconds(10) };
        using var fixture = new HandlerFixture(options);
        var gate = new HangGate();
        _server.Default = FaultResponse.Hang(gate, FaultResponse.Status(503, "late"));

        var pending = fixture.Client.GetAsync(_server.Url("/late"));
        await gate.Entered;
        fixture.Time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        gate.Release();
        using var response = await pending;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("late", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpResilienceOutcome.TimedOut, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(1, _server.RequestCount);
        Assert.Empty(fixture.Time.Delays);
    }

    [Fact]
    public async Task Get_EveryAttemptTimedOut_RetriesExhausted_Synthesized504()
    {
        // Attempts of 1 s inside 30 s: every retry is made and times out, so the answer is a timeout, not "unavailable".
        var options = HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 2;
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
            o.TotalTimeout = TimeSpan.FromSeconds(30);
        });
        using var fixture = new HandlerFixture(options);
        var gate = new HangGate();
        _server.Default = FaultResponse.Hang(gate);

        var pending = fixture.Client.GetAsync(_server.Url("/hang"));
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await _server.WaitForRequestsAsync(attempt);
            fixture.Time.Advance(TimeSpan.FromSeconds(1));
        }

        using var response = await pending;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(Resilience.Failures.FailureKind.Timeout, HttpFailureKindOf(response));
        Assert.Equal(HttpResilienceOutcome.RetriesExhausted, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(3, HttpResilienceResponse.GetAttempts(response));
        gate.Release();
    }

    [Fact]
    public async Task Post_OnlyAttemptTimedOut_NotRetried_Synthesized504()
    {
        var options = HandlerFixture.Immediate(o =>
        {
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
            o.TotalTimeout = TimeSpan.FromSeconds(30);
        });
        using var fixture = new HandlerFixture(options);
        var gate = new HangGate();
        _server.Default = FaultResponse.Hang(gate);

        var pending = fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, _server.Url("/orders")) { Content = new StringContent("{}") });
        await _server.WaitForRequestsAsync(1);
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        using var response = await pending;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.NotRetried, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(1, _server.RequestCount);
        gate.Release();
    }

    [Fact]
    public async Task Get_ConnectionRefusedThenTimedOut_Synthesized503()
    {
        // Not every attempt timed out (the first was refused): no claim that the upstream is merely slow.
        var options = HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 1;
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
            o.TotalTimeout = TimeSpan.FromSeconds(30);
        });
        using var fixture = new HandlerFixture(options);
        var gate = new HangGate();
        _server.Enqueue(FaultResponse.Drop());
        _server.Default = FaultResponse.Hang(gate);

        var pending = fixture.Client.GetAsync(_server.Url("/mixed"));
        await _server.WaitForRequestsAsync(2);
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        using var response = await pending;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.RetriesExhausted, HttpResilienceResponse.GetOutcome(response));
        gate.Release();
    }

    private static Resilience.Failures.FailureKind HttpFailureKindOf(HttpResponseMessage response) => HttpFailureClassifier.Classify(response.StatusCode);

    [Fact]
    public async Task Post_503NotRetried_ExceptionSurface_Throws()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.FailureSurface = HttpFailureSurface.Exception));
        _server.Default = FaultResponse.Status(503, "no");

        var error = await Assert.ThrowsAsync<HttpResilienceException>(() =>
            fixture.SendAsync(new HttpRequestMessage(HttpMethod.Post, _server.Url("/orders")) { Content = new StringContent("{}") }));

        Assert.Equal(1, _server.RequestCount);
        Assert.Equal(HttpResilienceOutcome.NotRetried, error.Outcome);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal(1, error.Attempts);
        Assert.Equal(0, fixture.Tracking.Undisposed);
    }

    [Fact]
    public async Task Get_NonTransient404_ExceptionSurface_ReturnedNotThrown()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.FailureSurface = HttpFailureSurface.Exception));
        _server.Default = FaultResponse.Status(404, "missing");

        using var response = await fixture.GetAsync(_server.Url("/missing"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.None, HttpResilienceResponse.GetOutcome(response));
        Assert.Null(HttpResilienceResponse.GetAttempts(response));
    }

    [Fact]
    public async Task Post_ConnectionDropped_ResponseSurface_Synthesized503NotRetriedOneAttempt()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        _server.Default = FaultResponse.Drop();

        using var response = await fixture.SendAsync(new HttpRequestMessage(HttpMethod.Post, _server.Url("/orders")) { Content = new StringContent("{}") });

        Assert.Equal(1, _server.RequestCount);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.NotRetried, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(1, HttpResilienceResponse.GetAttempts(response));
    }

    [Fact]
    public async Task Breaker_RejectionCountedByCore_SnapshotShowsRejection()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        var breaker = fixture.Handler.Engine.GetPipelines(_server.BaseAddress).Breaker;
        breaker.Isolate();

        using var response = await fixture.GetAsync(_server.Url("/x"));

        Assert.Equal(HttpResilienceOutcome.CircuitOpen, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(0, HttpResilienceResponse.GetAttempts(response));
        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal(CircuitState.Isolated, breaker.State);
        Assert.Equal(1, breaker.GetSnapshot().Rejections);
    }
}
