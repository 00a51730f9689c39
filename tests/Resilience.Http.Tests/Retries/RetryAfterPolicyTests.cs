namespace Resilience.Http.Tests.Retries;

public sealed class RetryAfterPolicyTests
{
    private static readonly TimeSpan Infinite = Timeout.InfiniteTimeSpan;

    // hint, computed, max, left (seconds; -1 = none / infinite) → kind (0 retry, 1 fail with hint, 2 no time left), delay, reported hint
    [Theory]
    [InlineData(-1, 2, 15, 30, 0, 2, -1)] // no hint: computed delay
    [InlineData(-1, 40, 15, 30, 0, 15, -1)] // no hint: capped by max delay
    [InlineData(-1, 10, 15, 10, 2, 0, -1)] // delay would reach the deadline
    [InlineData(-1, 10, 15, -1, 0, 10, -1)] // no total timeout
    [InlineData(5, 2, 15, 30, 0, 5, 5)] // hint replaces computed delay (longer)
    [InlineData(1, 8, 15, 30, 0, 1, 1)] // hint replaces computed delay (shorter)
    [InlineData(0, 2, 15, 30, 0, 0, 0)] // past HTTP-date parses to zero: retry at once
    [InlineData(15, 2, 15, 30, 0, 15, 15)] // hint equal to max delay fits
    [InlineData(16, 2, 15, 30, 1, 0, 16)] // hint above max delay
    [InlineData(12, 2, 15, 12, 1, 0, 12)] // hint reaches the deadline
    [InlineData(120, 2, 15, -1, 1, 0, 120)] // no deadline, still above max
    [InlineData(3, 2, 15, 3.5, 0, 3, 3)] // just fits before the deadline
    public void Decide_Table(double hint, double computed, double max, double left, int expectedKind, double delay, double reportedHint)
    {
        var decision = RetryAfterPolicy.Decide(
            hint < 0 ? null : TimeSpan.FromSeconds(hint),
            TimeSpan.FromSeconds(computed),
            TimeSpan.FromSeconds(max),
            left < 0 ? Infinite : TimeSpan.FromSeconds(left));

        var kind = (RetryDelayDecisionKind)expectedKind;
        Assert.Equal(kind, decision.Kind);
        Assert.Equal(TimeSpan.FromSeconds(delay), decision.Delay);
        Assert.Equal(reportedHint < 0 ? null : TimeSpan.FromSeconds(reportedHint), decision.ServerHint);
        Assert.Equal(kind == 0, decision.ShouldRetry);
    }

    [Fact]
    public void Decide_PastHttpDateFromServerHeaders_RetriesImmediately()
    {
        var now = new DateTimeOffset(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable);
        response.Headers.TryAddWithoutValidation("Retry-After", now.AddMinutes(-5).ToString("R"));
        Assert.True(HttpFailureClassifier.TryGetRetryAfter(response.Headers, now, out var hint));

        var decision = RetryAfterPolicy.Decide(hint, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30));

        Assert.Equal(RetryDelayDecisionKind.Retry, decision.Kind);
        Assert.Equal(TimeSpan.Zero, decision.Delay);
    }

    [Fact]
    public void Decide_NegativeComputedDelay_TreatedAsZero()
    {
        var decision = RetryAfterPolicy.Decide(null, TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30));

        Assert.Equal(TimeSpan.Zero, decision.Delay);
    }
}
