using System.Net;

namespace Resilience.Http.Tests.Retries;

public sealed class HttpAttemptClassifierTests
{
    [Theory]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(200, false)]
    [InlineData(404, false)]
    [InlineData(501, false)]
    public void IsTransientByDefault_Status(int status, bool expected)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);

        Assert.Equal(expected, HttpAttemptClassifier.IsTransientByDefault(Outcome.FromResult(response)));
    }

    [Fact]
    public void IsTransientByDefault_ConnectionFailure_Transient() =>
        Assert.True(HttpAttemptClassifier.IsTransientByDefault(Outcome.FromException<HttpResponseMessage>(new HttpRequestException("refused"))));

    [Fact]
    public void IsTransientByDefault_AttemptTimeout_Transient() =>
        Assert.True(HttpAttemptClassifier.IsTransientByDefault(Outcome.FromException<HttpResponseMessage>(new TimeoutException())));

    [Fact]
    public void IsTransientByDefault_Cancellation_NotTransient() =>
        Assert.False(HttpAttemptClassifier.IsTransientByDefault(Outcome.FromException<HttpResponseMessage>(new OperationCanceledException())));

    [Fact]
    public void IsTransientByDefault_OwnRejection_NotTransient() =>
        Assert.False(HttpAttemptClassifier.IsTransientByDefault(Outcome.FromException<HttpResponseMessage>(
            new HttpResilienceException(HttpResilienceOutcome.CircuitOpen, "http://a:80", TimeSpan.FromSeconds(1), 0, null))));

    [Fact]
    public void IsTransient_CustomPredicate_Overrides()
    {
        var options = new HttpResilienceOptions { ShouldHandleOutcome = static o => o.Result?.StatusCode == HttpStatusCode.NotFound };
        using var notFound = new HttpResponseMessage(HttpStatusCode.NotFound);
        using var unavailable = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);

        Assert.True(HttpAttemptClassifier.IsTransient(options, Outcome.FromResult(notFound)));
        Assert.False(HttpAttemptClassifier.IsTransient(options, Outcome.FromResult(unavailable)));
        Assert.True(HttpAttemptClassifier.IsTransient(new HttpResilienceOptions(), Outcome.FromResult(unavailable)));
    }

    [Theory]
    [InlineData(false, false, true, true)] // only the attempt token fired: our attempt timeout
    [InlineData(true, false, true, false)] // the caller cancelled (linked tokens fire too)
    [InlineData(false, true, true, false)] // the total timeout fired
    [InlineData(false, false, false, false)] // nothing of ours fired
    public void IsAttemptTimeout_WhichTokenFired(bool caller, bool total, bool attempt, bool expected)
    {
        Assert.Equal(expected, HttpAttemptClassifier.IsAttemptTimeout(Token(caller), Token(total), Token(attempt)));

        static CancellationToken Token(bool cancelled) => new(cancelled);
    }
}
