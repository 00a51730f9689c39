using System.Net;
using Resilience.Http.Testing;

namespace Resilience.Http.Tests.Responses;

public sealed class SyntheticResponsesTests
{
    [Fact]
    public void Create503_CircuitOpen_RetryAfterRoundedUpAndMarked()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://api.test/items?token=secret");

        using var response = SyntheticResponses.Create503(request, HttpResilienceOutcome.CircuitOpen, TimeSpan.FromSeconds(12.2));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(13), response.Headers.RetryAfter?.Delta);
        Assert.Equal("circuit-open", Assert.Single(response.Headers.GetValues(HttpResilienceResponse.OutcomeHeader)));
        Assert.Same(request, response.RequestMessage);
        Assert.Equal(HttpResilienceOutcome.CircuitOpen, HttpResilienceResponse.GetOutcome(response));
    }

    [Fact]
    public void Create503_NoHint_NoRetryAfterHeader()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://api.test/");

        using var response = SyntheticResponses.Create503(request, HttpResilienceOutcome.RetriesExhausted, null);

        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal(HttpResilienceOutcome.RetriesExhausted, HttpResilienceResponse.GetOutcome(response));
    }

    [Fact]
    public void CreateOrThrow_ExceptionSurface_ThrowsTypedExceptionWithoutPath()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://api.test/items?token=secret");
        var last = new HttpRequestException("refused");

        var error = Assert.Throws<HttpResilienceException>(() => SyntheticResponses.CreateOrThrow(
            HttpFailureSurface.Exception, request, HttpResilienceOutcome.RetryAfterExceedsDeadline, "http://api.test:80", TimeSpan.FromSeconds(90), last));

        Assert.Equal(HttpResilienceOutcome.RetryAfterExceedsDeadline, error.Outcome);
        Assert.Equal("http://api.test:80", error.Authority);
        Assert.Equal(TimeSpan.FromSeconds(90), error.RetryAfter);
        Assert.Same(last, error.InnerException);
        Assert.IsAssignableFrom<HttpRequestException>(error);
        Assert.Equal("The server asked to retry later than the handler may wait (http://api.test:80); retry after 90 s.", error.Message);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpResilienceOutcome.None)]
    [InlineData(HttpResilienceOutcome.Stale)]
    public void HttpResilienceException_NotAFailure_Throws(HttpResilienceOutcome outcome) =>
        Assert.Throws<ArgumentOutOfRangeException>(nameof(outcome), () => new HttpResilienceException(outcome, null, null));

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
        using var synthesized = SyntheticResponses.Create503(request, HttpResilienceOutcome.CircuitOpen, null);
        using var other = new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request };

        Assert.Equal(HttpResilienceOutcome.None, HttpResilienceResponse.GetOutcome(other));
    }
}
