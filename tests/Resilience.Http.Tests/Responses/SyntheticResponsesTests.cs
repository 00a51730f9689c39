using System.Net;
using Resilience.Http.Testing;

namespace Resilience.Http.Tests.Responses;

public sealed class SyntheticResponsesTests
{
    [Fact]
    public void Create503_CircuitOpen_RetryAfterRoundedUpAndMarked()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://api.test/items?token=secret");

        using var response = SyntheticResponses.Create503(request, TimeSpan.FromSeconds(12.2));
        OutcomeMarker.Mark(request, response, HttpResilienceOutcome.CircuitOpen, 0);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(13), response.Headers.RetryAfter?.Delta);
        Assert.Equal("circuit-open", Assert.Single(response.Headers.GetValues(HttpResilienceResponse.OutcomeHeader)));
        Assert.Same(request, response.RequestMessage);
        Assert.Equal(HttpResilienceOutcome.CircuitOpen, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(0, HttpResilienceResponse.GetAttempts(response));
        Assert.Equal("0", Assert.Single(response.Headers.GetValues(HttpResilienceResponse.AttemptsHeader)));
    }

    [Fact]
    public void Create503_NoHint_NoRetryAfterHeader()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://api.test/");

        using var response = SyntheticResponses.Create503(request, null);

        Assert.Null(response.Headers.RetryAfter);
    }

    [Fact]
    public void HttpResilienceException_RetryAfterBeyondDeadline_MessageNamesAuthorityAttemptsAndHintNotPath()
    {
        var error = new HttpResilienceException(
            HttpResilienceOutcome.RetryAfterExceedsDeadline, "http://api.test:80", TimeSpan.FromSeconds(90), 1, HttpStatusCode.TooManyRequests);

        Assert.Equal(HttpResilienceOutcome.RetryAfterExceedsDeadline, error.Outcome);
        Assert.Equal("http://api.test:80", error.Authority);
        Assert.Equal(TimeSpan.FromSeconds(90), error.RetryAfter);
        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.IsAssignableFrom<HttpRequestException>(error);
        Assert.Equal("1 attempt was sent; the server answered 429 and asked to retry later than the handler may wait (http://api.test:80); retry after 90 s.", error.Message);
    }

    [Fact]
    public void HttpResilienceException_CircuitOpenNothingSent_SaysNotSent()
    {
        var last = new HttpRequestException("refused");

        var error = new HttpResilienceException(HttpResilienceOutcome.CircuitOpen, "http://api.test:80", TimeSpan.FromSeconds(2.5), 0, null, last);

        Assert.Same(last, error.InnerException);
        Assert.Equal("The circuit is open; the request was not sent (http://api.test:80); retry after 2.5 s.", error.Message);
    }

    [Theory]
    [InlineData(HttpResilienceOutcome.None)]
    [InlineData(HttpResilienceOutcome.Stale)]
    public void HttpResilienceException_NotAFailure_Throws(HttpResilienceOutcome outcome) =>
        Assert.Throws<ArgumentOutOfRangeException>(nameof(outcome), () => new HttpResilienceException(outcome, null, null, 0, null));

    [Fact]
    public async Task GetOutcome_UpstreamSendsMarkerHeader_StillNone()
    {
        await using var server = await FaultServer.StartAsync();
        server.Enqueue(FaultResponse.Status(503, "down", headers: (HttpResilienceResponse.OutcomeHeader, "circuit-open")));
        using var client = new HttpClient();

        using var response = await client.GetAsync(server.Url("/"));

        Assert.True(response.Headers.Contains(HttpResilienceResponse.OutcomeHeader));
        Assert.Equal(HttpResilienceOutcome.None, HttpResilienceResponse.GetOutcome(response));
    }

    [Fact]
    public void GetOutcome_MarkerOfAnotherResponse_None()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://api.test/");
        using var synthesized = SyntheticResponses.Create503(request, null);
        OutcomeMarker.Mark(request, synthesized, HttpResilienceOutcome.CircuitOpen, 0);
        using var other = new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request };

        Assert.Equal(HttpResilienceOutcome.None, HttpResilienceResponse.GetOutcome(other));
    }
}
