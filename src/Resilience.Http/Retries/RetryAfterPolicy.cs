namespace Resilience.Http;

/// <summary>What to do after a transient failure, given the server's hint and the time left.</summary>
internal enum RetryDelayDecisionKind
{
    /// <summary>Wait <see cref="RetryDelayDecision.Delay"/>, then retry.</summary>
    Retry,

    /// <summary>The server's <c>Retry-After</c> is longer than the maximum delay or the time left: fail now and report the hint.</summary>
    FailNowWithHint,

    /// <summary>There is no hint, but even the computed delay would end after the total deadline: fail now.</summary>
    FailNowNoTimeLeft,
}

/// <summary>The decision of <see cref="RetryAfterPolicy.Decide"/>.</summary>
internal readonly record struct RetryDelayDecision(RetryDelayDecisionKind Kind, TimeSpan Delay, TimeSpan? ServerHint)
{
    public bool ShouldRetry => Kind == RetryDelayDecisionKind.Retry;
}

/// <summary>Caps the delay before a retry by the server's <c>Retry-After</c>, <see cref="HttpResilienceOptions.MaxDelay"/> and the total deadline.</summary>
internal static class RetryAfterPolicy
{
    /// <summary>Decides the delay before the next attempt.</summary>
    /// <param name="serverHint">The server's <c>Retry-After</c> as a delay (a past HTTP-date is zero), or <see langword="null"/>.</param>
    /// <param name="computedDelay">The backoff schedule's delay for this attempt.</param>
    /// <param name="maxDelay">The longest delay the client waits.</param>
    /// <param name="timeLeft">The time left of the total timeout; <see cref="Timeout.InfiniteTimeSpan"/> when there is none.</param>
    /// <remarks>
    /// A server hint replaces the computed delay (the server knows when it will recover); a hint the client cannot honour
    /// fails at once rather than retrying early into the same 429/503 or sleeping past the deadline. The next attempt
    /// must start before the deadline, so a delay equal to the time left does not fit.
    /// </remarks>
    public static RetryDelayDecision Decide(TimeSpan? serverHint, TimeSpan computedDelay, TimeSpan maxDelay, TimeSpan timeLeft)
    {
        var unbounded = timeLeft == Timeout.InfiniteTimeSpan;
        if (serverHint is { } hint)
        {
            if (hint < TimeSpan.Zero)
            {
                hint = TimeSpan.Zero;
            }

            return hint > maxDelay || (!unbounded && hint >= timeLeft)
                ? new RetryDelayDecision(RetryDelayDecisionKind.FailNowWithHint, TimeSpan.Zero, hint)
                : new RetryDelayDecision(RetryDelayDecisionKind.Retry, hint, hint);
        }

        var delay = computedDelay < TimeSpan.Zero ? TimeSpan.Zero : computedDelay > maxDelay ? maxDelay : computedDelay;
        return !unbounded && delay >= timeLeft
            ? new RetryDelayDecision(RetryDelayDecisionKind.FailNowNoTimeLeft, TimeSpan.Zero, null)
            : new RetryDelayDecision(RetryDelayDecisionKind.Retry, delay, null);
    }
}
