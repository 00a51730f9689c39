using System.Globalization;
using Resilience.CircuitBreaking;
using Resilience.Retry;

namespace Resilience.Npgsql;

/// <summary>Words for the start-up log: what the database's retry and breaker really do, from the settings they run with.</summary>
internal static class NpgsqlStartupDescription
{
    public static string Retry(RetryOptions r) => r.MaxRetries == 0
        ? "no retries"
        : string.Create(CultureInfo.InvariantCulture, $"up to {r.MaxRetries} retries ({r.Backoff} backoff from {Seconds(r.BaseDelay)} s, at most {Seconds(r.MaxDelay)} s, {r.Jitter} jitter)");

    /// <summary>Describes only the settings of the breaker's mode: a failure threshold means nothing to a ratio breaker, and the other way round.</summary>
    public static string Breaker(CircuitBreakerOptions b)
    {
        var opens = b.Mode == CircuitBreakerMode.FailureRatio
            ? string.Create(CultureInfo.InvariantCulture, $"opens when at least {b.FailureRatio * 100:0.#}% of the calls in {Seconds(b.SamplingDuration)} s fail, once {b.MinimumThroughput} calls were made in that window")
            : string.Create(CultureInfo.InvariantCulture, $"opens after {b.FailureThreshold} failures in a row");
        var slow = b.SlowCallThreshold is { } threshold
            ? string.Create(CultureInfo.InvariantCulture, $" (a call slower than {Seconds(threshold)} s counts as a failure)")
            : string.Empty;
        var growing = b.BreakDurationFactor > 1 && b.MaxBreakDuration > b.BreakDuration;
        var breaks = growing
            ? string.Create(CultureInfo.InvariantCulture, $"breaks for {Seconds(b.BreakDuration)} s, ×{b.BreakDurationFactor:0.##} after each failed probe up to {Seconds(b.MaxBreakDuration)} s")
            : string.Create(CultureInfo.InvariantCulture, $"breaks for {Seconds(b.BreakDuration)} s");
        return string.Create(CultureInfo.InvariantCulture, $"breaker {opens}{slow}; {breaks}, then {b.PermittedProbes} probe(s)");
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
