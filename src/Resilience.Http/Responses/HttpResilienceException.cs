using System.Globalization;
using System.Net;

namespace Resilience.Http;

/// <summary>The error a request fails with when the handler reports failures as exceptions.</summary>
/// <remarks>
/// <para>
/// Thrown only when <see cref="HttpResilienceOptions.FailureSurface"/> is <see cref="HttpFailureSurface.Exception"/>, and
/// then for every request that ends in a failure the handler handles: a transient status (retried or not), a connection
/// failure, a timeout or an open circuit. The upstream's response, if any, is disposed; its status is
/// <see cref="HttpRequestException.StatusCode"/>. <see cref="Attempts"/> says how many attempts reached the network:
/// only <see cref="HttpResilienceOutcome.CircuitOpen"/> with zero attempts means the request was not sent.
/// </para>
/// <para>
/// Derives from <see cref="HttpRequestException"/>, so code that already handles failed requests handles it too. The
/// message names the authority only (scheme, host and port), never a path or query; it is built when first read, so a
/// rejection that nobody logs costs no formatting.
/// </para>
/// </remarks>
public sealed class HttpResilienceException : HttpRequestException
{
    private string? _message;

    /// <summary>Initializes a new instance of the <see cref="HttpResilienceException"/> class.</summary>
    /// <param name="outcome">Why the handler gave up; any value but <see cref="HttpResilienceOutcome.None"/> and <see cref="HttpResilienceOutcome.Stale"/>.</param>
    /// <param name="authority">The authority the request addressed (<c>scheme://host:port</c>), or <see langword="null"/>.</param>
    /// <param name="retryAfter">When it makes sense to try again (remaining break, or the server's hint), or <see langword="null"/>.</param>
    /// <param name="attempts">How many attempts reached the network; 0 when the request was not sent.</param>
    /// <param name="statusCode">The status of the upstream's last response, or <see langword="null"/> when there was none.</param>
    /// <param name="innerException">The last attempt's error, or <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outcome"/> is not a failure, or <paramref name="attempts"/> is negative.</exception>
    public HttpResilienceException(HttpResilienceOutcome outcome, string? authority, TimeSpan? retryAfter, int attempts, HttpStatusCode? statusCode, Exception? innerException = null)
        : base(null, innerException, statusCode)
    {
        if (outcome is HttpResilienceOutcome.None or HttpResilienceOutcome.Stale || !Enum.IsDefined(outcome))
        {
            throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "The outcome must be a failure.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(attempts);
        Outcome = outcome;
        Authority = authority;
        RetryAfter = retryAfter;
        Attempts = attempts;
    }

    /// <summary>Gets why the handler gave up.</summary>
    public HttpResilienceOutcome Outcome { get; }

    /// <summary>Gets the authority (<c>scheme://host:port</c>) the request addressed, or <see langword="null"/>.</summary>
    public string? Authority { get; }

    /// <summary>Gets when it makes sense to try again: the remaining break of an open circuit or the server's <c>Retry-After</c>.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Gets how many attempts reached the network: 0 means the request was not sent.</summary>
    public int Attempts { get; }

    /// <inheritdoc />
    public override string Message => _message ??= CreateMessage();

    private string CreateMessage()
    {
        var last = StatusCode is { } status
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)status}")
            : InnerException?.GetType().Name ?? "unknown";
        var sent = Attempts == 1 ? "1 attempt was sent" : string.Create(CultureInfo.InvariantCulture, $"{Attempts} attempts were sent");
        var what = Outcome switch
        {
            HttpResilienceOutcome.CircuitOpen when Attempts == 0 => "The circuit is open; the request was not sent",
            HttpResilienceOutcome.CircuitOpen or HttpResilienceOutcome.RetriesStoppedByOpenCircuit =>
                $"{sent} and failed (last: {last}); the circuit is now open, so no further retry was made",
            HttpResilienceOutcome.RetriesExhausted => $"{sent} and failed (last: {last}); no retry is left",
            HttpResilienceOutcome.RetryBudgetExhausted => $"{sent} and failed (last: {last}); the retry budget is empty",
            HttpResilienceOutcome.RetryAfterExceedsDeadline => $"{sent}; the server answered {last} and asked to retry later than the handler may wait",
            HttpResilienceOutcome.ConcurrencyLimited => "The authority's concurrency limit is reached; the request was not sent",
            HttpResilienceOutcome.Throttled when Attempts == 0 => "The authority refuses most requests, so this one was throttled locally and not sent",
            HttpResilienceOutcome.Throttled => $"{sent} and failed (last: {last}); the next attempt was throttled locally",
            HttpResilienceOutcome.TimedOut => $"The total timeout ran out or leaves no room for another attempt; {sent} (last: {last})",
            _ => $"{sent} and failed (last: {last}); the request is not retried",
        };

        var target = Authority is null ? string.Empty : " (" + Authority + ")";
        var after = RetryAfter is { } delay
            ? string.Create(CultureInfo.InvariantCulture, $"; retry after {delay.TotalSeconds:0.###} s.")
            : ".";
        return what + target + after;
    }
}
