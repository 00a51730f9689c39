using System.Globalization;

namespace Resilience.Http;

/// <summary>The error a request fails with when the handler gives up on it and reports failures as exceptions.</summary>
/// <remarks>
/// Thrown only when <see cref="HttpResilienceOptions.FailureSurface"/> is <see cref="HttpFailureSurface.Exception"/>.
/// Derives from <see cref="HttpRequestException"/>, so code that already handles failed requests handles it too.
/// The message names the authority only (scheme, host and port), never a path or query.
/// </remarks>
public sealed class HttpResilienceException : HttpRequestException
{
    /// <summary>Initializes a new instance of the <see cref="HttpResilienceException"/> class.</summary>
    /// <param name="outcome">Why the handler gave up; any value but <see cref="HttpResilienceOutcome.None"/> and <see cref="HttpResilienceOutcome.Stale"/>.</param>
    /// <param name="authority">The authority the request addressed (<c>scheme://host:port</c>), or <see langword="null"/>.</param>
    /// <param name="retryAfter">When it makes sense to try again (remaining break, or the server's hint), or <see langword="null"/>.</param>
    /// <param name="innerException">The last attempt's error, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outcome"/> is not a failure.</exception>
    public HttpResilienceException(HttpResilienceOutcome outcome, string? authority, TimeSpan? retryAfter, Exception? innerException = null)
        : base(CreateMessage(outcome, authority, retryAfter), innerException)
    {
        Outcome = outcome;
        Authority = authority;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets why the handler gave up.</summary>
    public HttpResilienceOutcome Outcome { get; }

    /// <summary>Gets the authority (<c>scheme://host:port</c>) the request addressed, or <see langword="null"/>.</summary>
    public string? Authority { get; }

    /// <summary>Gets when it makes sense to try again: the remaining break of an open circuit or the server's <c>Retry-After</c>.</summary>
    public TimeSpan? RetryAfter { get; }

    private static string CreateMessage(HttpResilienceOutcome outcome, string? authority, TimeSpan? retryAfter)
    {
        var what = outcome switch
        {
            HttpResilienceOutcome.CircuitOpen => "The circuit is open; the request was not sent",
            HttpResilienceOutcome.RetriesExhausted => "Every attempt failed and no retry is left",
            HttpResilienceOutcome.RetryBudgetExhausted => "The request failed and the retry budget is empty",
            HttpResilienceOutcome.RetryAfterExceedsDeadline => "The server asked to retry later than the handler may wait",
            HttpResilienceOutcome.TimedOut => "The total timeout ran out before an attempt succeeded",
            _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "The outcome must be a failure."),
        };

        var target = authority is null ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" ({authority})");
        var after = retryAfter is { } delay
            ? string.Create(CultureInfo.InvariantCulture, $"; retry after {delay.TotalSeconds:0.###} s.")
            : ".";
        return what + target + after;
    }
}
