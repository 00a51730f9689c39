using System.Net;
using System.Net.Http.Headers;
using Resilience.Http.Testing;

namespace Resilience.Http.Tests.Handler;

public sealed class ResilienceHttpHandlerRetryTests : IAsyncLifetime
{
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Get_TransientTwiceThenOk_RetriedUntilSuccess()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        _server.Enqueue(FaultResponse.Status(503), FaultResponse.Status(500), FaultResponse.Ok("done"));

        using var response = await fixture.GetAsync(_server.Url("/items"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("done", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpResilienceOutcome.None, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(3, _server.RequestCount);
        Assert.Empty(fixture.Time.Delays);
    }

    [Fact]
    public async Task Get_NonTransientStatus_ReturnedWithoutRetry()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        _server.Enqueue(FaultResponse.Status(404, "missing"));

        using var response = await fixture.GetAsync(_server.Url("/items/9"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(1, _server.RequestCount);
    }

    [Fact]
    public async Task Get_ComputedBackoff_DelaysOnFakeClockWithinMaxDelay()
    {
        var options = new HttpResilienceOptions { BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(5) };
        using var fixture = new HandlerFixture(options);
        _server.Enqueue(FaultResponse.Status(500), FaultResponse.Status(502), FaultResponse.Status(504), FaultResponse.Ok("late"));

        using var response = await fixture.GetAsync(_server.Url("/slow"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4, _server.RequestCount);
        Assert.Equal(3, fixture.Time.Delays.Count);
        Assert.All(fixture.Time.Delays, d => Assert.InRange(d, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Get_RetryAfterSeconds_WaitsExactlyTheHint()
    {
        using var fixture = new HandlerFixture(new HttpResilienceOptions());
        _server.Enqueue(FaultResponse.RetryAfterSeconds(429, 7), FaultResponse.Ok("after"));

        using var response = await fixture.GetAsync(_server.Url("/limited"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([TimeSpan.FromSeconds(7)], fixture.Time.Delays);
        Assert.Equal(2, _server.RequestCount);
    }

    [Fact]
    public async Task Get_RetryAfterHttpDate_WaitsUntilTheDate()
    {
        using var fixture = new HandlerFixture(new HttpResilienceOptions());
        _server.Enqueue(FaultResponse.RetryAfterDate(503, fixture.Time.GetUtcNow().AddSeconds(4)), FaultResponse.Ok("after"));

        using var response = await fixture.GetAsync(_server.Url("/dated"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([TimeSpan.FromSeconds(4)], fixture.Time.Delays);
    }

    [Fact]
    public async Task Get_RetryAfter40WithTotal30_FailsAtOnceWithServerHint()
    {
        // Microsoft's standard handler would wait here until its 30 s total timeout fires.
        using var fixture = new HandlerFixture(new HttpResilienceOptions());
        var start = fixture.Time.GetUtcNow();
        _server.Default = FaultResponse.RetryAfterSeconds(503, 40);

        using var response = await fixture.GetAsync(_server.Url("/busy"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.RetryAfterExceedsDeadline, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(TimeSpan.FromSeconds(40), response.Headers.RetryAfter?.Delta);
        Assert.Equal("retry-after-exceeds-deadline", response.Headers.GetValues(HttpResilienceResponse.OutcomeHeader).Single());
        Assert.Equal(1, _server.RequestCount);
        Assert.Empty(fixture.Time.Delays);
        Assert.Equal(start, fixture.Time.GetUtcNow());
    }

    [Fact]
    public async Task Get_RetryAfterFitsMaxDelayButNotTimeLeft_FailsWithHintAfterFirstRetry()
    {
        var options = new HttpResilienceOptions { MaxDelay = TimeSpan.FromSeconds(25) };
        using var fixture = new HandlerFixture(options);
        _server.Default = FaultResponse.RetryAfterSeconds(503, 20);

        using var response = await fixture.GetAsync(_server.Url("/busy"));

        // 20 s fits the first time (30 s left); after it only 10 s are left, so the second hint fails at once.
        Assert.Equal([TimeSpan.FromSeconds(20)], fixture.Time.Delays);
        Assert.Equal(2, _server.RequestCount);
        Assert.Equal(HttpResilienceOutcome.RetryAfterExceedsDeadline, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(TimeSpan.FromSeconds(20), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Get_RetryAfterBeyondDeadline_ExceptionSurface_ThrowsWithHint()
    {
        using var fixture = new HandlerFixture(new HttpResilienceOptions { FailureSurface = HttpFailureSurface.Exception });
        _server.Default = FaultResponse.RetryAfterSeconds(429, 40);

        var error = await Assert.ThrowsAsync<HttpResilienceException>(() => fixture.GetAsync(_server.Url("/busy")));

        Assert.Equal(HttpResilienceOutcome.RetryAfterExceedsDeadline, error.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(40), error.RetryAfter);
        Assert.Equal("http://127.0.0.1:" + _server.BaseAddress.Port, error.Authority);
        Assert.Equal(0, fixture.Tracking.Undisposed);
    }

    [Fact]
    public async Task Get_RetriesExhaustedByConnectionFailures_Synthesized503()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.MaxRetries = 1));
        _server.Default = FaultResponse.Drop();

        using var response = await fixture.GetAsync(_server.Url("/drop"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.RetriesExhausted, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(2, HttpResilienceResponse.GetAttempts(response));
        Assert.Equal(2, _server.RequestCount);
    }

    [Fact]
    public async Task Get_RetriesExhausted_ExceptionSurface_InnerIsLastError()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.MaxRetries = 1;
            o.FailureSurface = HttpFailureSurface.Exception;
        }));
        _server.Default = FaultResponse.Drop();

        var error = await Assert.ThrowsAsync<HttpResilienceException>(() => fixture.GetAsync(_server.Url("/drop")));

        Assert.Equal(HttpResilienceOutcome.RetriesExhausted, error.Outcome);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task Post_503WithoutIdempotencyKey_SentOnceAndUpstreamResponseReturned()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        _server.Default = FaultResponse.Status(503, "upstream says no");

        using var response = await fixture.SendAsync(new HttpRequestMessage(HttpMethod.Post, _server.Url("/orders")) { Content = new StringContent("{}") });

        Assert.Equal(1, _server.RequestCount);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("upstream says no", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpResilienceOutcome.NotRetried, HttpResilienceResponse.GetOutcome(response));
    }

    [Fact]
    public async Task Post_503WithIdempotencyKey_Retried()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        _server.Enqueue(FaultResponse.Status(503), FaultResponse.Status(503), FaultResponse.Ok("created"));
        var request = new HttpRequestMessage(HttpMethod.Post, _server.Url("/orders")) { Content = new StringContent("{\"n\":1}") };
        request.Headers.Add("Idempotency-Key", "order-1");

        using var response = await fixture.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, _server.RequestCount);
        Assert.All(_server.Requests, r =>
        {
            Assert.Equal("order-1", r.Header("Idempotency-Key"));
            Assert.Equal("{\"n\":1}", System.Text.Encoding.UTF8.GetString(r.Body));
        });
    }

    [Fact]
    public async Task Post_AllowRetryOption_Retried()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        _server.Enqueue(FaultResponse.Status(502), FaultResponse.Ok("ok"));
        var request = new HttpRequestMessage(HttpMethod.Post, _server.Url("/search")) { Content = new StringContent("q") };
        request.Options.Set(HttpResilienceRequestOptions.AllowRetry, true);

        using var response = await fixture.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, _server.RequestCount);
    }

    [Fact]
    public async Task Get_AllowRetryFalse_SentOnce()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        _server.Default = FaultResponse.Status(503);
        var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/once"));
        request.Options.Set(HttpResilienceRequestOptions.AllowRetry, false);

        using var response = await fixture.SendAsync(request);

        Assert.Equal(1, _server.RequestCount);
        Assert.Equal(HttpResilienceOutcome.NotRetried, HttpResilienceResponse.GetOutcome(response));
    }

    [Fact]
    public async Task Put_NonSeekableStreamBody_ResentByteForByte()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        var body = new byte[64 * 1024];
        new Random(42).NextBytes(body);
        _server.Enqueue(FaultResponse.Status(503), FaultResponse.Drop(), FaultResponse.Ok("stored"));
        var content = new StreamContent(new NonSeekableStream(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");

        using var response = await fixture.SendAsync(new HttpRequestMessage(HttpMethod.Put, _server.Url("/blob")) { Content = content });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, _server.RequestCount);
        Assert.All(_server.Requests, r =>
        {
            Assert.Equal(body, r.Body);
            Assert.Equal("application/octet-stream", r.Header("Content-Type"));
        });
    }

    [Fact]
    public async Task Put_BodyLargerThanBufferLimit_SentOnceAndNotRetried()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.MaxBufferedContentBytes = 1024));
        var body = new byte[10_000];
        _server.Default = FaultResponse.Status(503);

        using var response = await fixture.SendAsync(new HttpRequestMessage(HttpMethod.Put, _server.Url("/big")) { Content = new StreamContent(new NonSeekableStream(body)) });

        Assert.Equal(1, _server.RequestCount);
        Assert.Equal(body, _server.Requests[0].Body);
        Assert.Equal(HttpResilienceOutcome.NotRetried, HttpResilienceResponse.GetOutcome(response));
    }

    [Fact]
    public async Task Put_BodyStreamStalls_TotalTimeoutEndsBuffering504NothingSent()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.TotalTimeout = TimeSpan.FromSeconds(5)));
        var body = new HangingStream();

        var pending = fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Put, _server.Url("/upload")) { Content = new StreamContent(body) });
        await body.Reading;
        fixture.Time.Advance(TimeSpan.FromSeconds(5));
        using var response = await pending.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.TimedOut, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(0, HttpResilienceResponse.GetAttempts(response));
        Assert.Equal(0, _server.RequestCount);
    }

    [Fact]
    public async Task Retries_DiscardedResponses_AreDisposed()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        _server.Enqueue(FaultResponse.Status(503, "first"), FaultResponse.Status(500, "second"), FaultResponse.Ok("third"));

        var response = await fixture.GetAsync(_server.Url("/leak"));

        Assert.Equal(3, fixture.Tracking.Responses);
        Assert.Equal(1, fixture.Tracking.Undisposed);
        Assert.Equal("third", await response.Content.ReadAsStringAsync());
        response.Dispose();
        Assert.Equal(0, fixture.Tracking.Undisposed);
    }

    [Fact]
    public async Task Retries_ManySequentialRetriesOverOneConnection_NoConnectionHeldByDiscardedResponses()
    {
        // One connection only: a discarded response that kept its connection would make the next attempt wait forever.
        var options = HandlerFixture.Immediate(o => o.RetryBudget.Enabled = false);
        var time = new DelayRecordingTimeProvider();
        using var handler = new ResilienceHttpHandler("one-connection", options, time)
        {
            InnerHandler = new SocketsHttpHandler { MaxConnectionsPerServer = 1 },
        };
        using var client = new HttpClient(handler);
        _server.Default = FaultResponse.Status(503, new string('x', 100_000), chunked: true);

        for (var i = 0; i < 5; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/" + i));
            request.Options.Set(HttpResilienceRequestOptions.AllowRetry, true);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpResilienceOutcome.RetriesExhausted, HttpResilienceResponse.GetOutcome(response));
            handler.Engine.GetPipelines(_server.BaseAddress).Breaker.Reset();
        }

        Assert.Equal(20, _server.RequestCount);
    }

    [Fact]
    public async Task CallerCancellation_DuringAttempt_PropagatesAndIsNotRetried()
    {
        using var fixture = new HandlerFixture(HandlerFixture.Immediate());
        var gate = new HangGate();
        _server.Default = FaultResponse.Hang(gate);
        using var cts = new CancellationTokenSource();

        var pending = fixture.Client.GetAsync(_server.Url("/hang"), cts.Token);
        await gate.Entered;
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await gate.Aborted;
        Assert.Equal(1, _server.RequestCount);
        Assert.Equal(Resilience.CircuitBreaking.CircuitState.Closed, fixture.Handler.Engine.GetPipelines(_server.BaseAddress).Breaker.State);
        Assert.Equal(0, fixture.Handler.Engine.GetPipelines(_server.BaseAddress).Breaker.GetSnapshot().Failures);
        gate.Release();
    }

    [Fact]
    public async Task CallerCancellation_DuringRetryDelay_PropagatesWithoutAnotherAttempt()
    {
        using var fixture = new HandlerFixture(new HttpResilienceOptions());
        _server.Enqueue(FaultResponse.RetryAfterSeconds(503, 5));
        using var cts = new CancellationTokenSource();

        var pending = fixture.Client.GetAsync(_server.Url("/wait"), cts.Token);
        while (fixture.Time.Delays.Count == 0 && !pending.IsCompleted)
        {
            await Task.Yield();
        }

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        fixture.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, _server.RequestCount);
    }

    [Fact]
    public async Task AttemptTimeout_Hangs_RetriedThenTotalTimeoutGives504()
    {
        var options = HandlerFixture.Immediate(o =>
        {
            o.AttemptTimeout = TimeSpan.FromSeconds(10);
            o.TotalTimeout = TimeSpan.FromSeconds(15);
        });
        using var fixture = new HandlerFixture(options);
        var gate = new HangGate();
        _server.Default = FaultResponse.Hang(gate);

        var pending = fixture.Client.GetAsync(_server.Url("/hang"));
        await _server.WaitForRequestsAsync(1);
        fixture.Time.Advance(TimeSpan.FromSeconds(10));
        await _server.WaitForRequestsAsync(2);
        fixture.Time.Advance(TimeSpan.FromSeconds(5));
        using var response = await pending;

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(HttpResilienceOutcome.TimedOut, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(2, _server.RequestCount);
        gate.Release();
    }

    [Theory]
    [InlineData(HttpFailureSurface.Exception)]
    [InlineData(HttpFailureSurface.Response503)]
    public async Task HangingUpstream_FreshClient_EndsAsTimedOutNeverAsEmptyBudget(HttpFailureSurface surface)
    {
        // Attempts of 5 s inside 11 s with delays of up to 1 s: the jitter decides whether the third attempt starts (and
        // the total cuts it) or the second delay does not fit the time left, so the retry stops before the deadline.
        // Either way the request timed out; several fresh clients, so both schedules come up.
        for (var run = 0; run < 8; run++)
        {
            var options = new HttpResilienceOptions
            {
                FailureSurface = surface,
                AttemptTimeout = TimeSpan.FromSeconds(5),
                TotalTimeout = TimeSpan.FromSeconds(11),
                BaseDelay = TimeSpan.FromSeconds(1),
                MaxDelay = TimeSpan.FromSeconds(1),
            };
            using var fixture = new HandlerFixture(options);
            var gate = new HangGate();
            _server.Default = FaultResponse.Hang(gate);
            var before = _server.RequestCount;
            var start = fixture.Time.GetUtcNow();

            var pending = fixture.Time.DriveAsync(fixture.Client.GetAsync(_server.Url("/hang/" + run)));
            for (var attempt = 1; ; attempt++)
            {
                if (await Task.WhenAny(_server.WaitForRequestsAsync(before + attempt), pending) == pending)
                {
                    break;
                }

                // The attempt's timer fires at its limit or at the total's deadline, whichever comes first.
                var left = options.TotalTimeout - (fixture.Time.GetUtcNow() - start);
                fixture.Time.Advance(left < options.AttemptTimeout ? left : options.AttemptTimeout);
            }

            HttpResilienceOutcome outcome;
            if (surface == HttpFailureSurface.Exception)
            {
                var error = await Assert.ThrowsAsync<HttpResilienceException>(() => pending);
                outcome = error.Outcome;
                Assert.DoesNotContain("budget", error.Message, StringComparison.OrdinalIgnoreCase);
            }
            else
            {
                using var response = await pending;
                outcome = HttpResilienceResponse.GetOutcome(response);
                Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            }

            Assert.Equal(HttpResilienceOutcome.TimedOut, outcome);
            Assert.InRange(_server.RequestCount - before, 2, 3);
            Assert.Equal(0, fixture.Handler.Engine.GetPipelines(_server.BaseAddress).Budget!.Rejections);
            gate.Release();
        }
    }
}
