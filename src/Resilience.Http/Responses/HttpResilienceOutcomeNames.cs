namespace Resilience.Http;

/// <summary>The wire names of <see cref="HttpResilienceOutcome"/> used in the marker header, logs and metric tags.</summary>
internal static class HttpResilienceOutcomeNames
{
    public const string Stale = "stale";
    public const string CircuitOpen = "circuit-open";
    public const string RetriesExhausted = "retries-exhausted";
    public const string RetryBudgetExhausted = "retry-budget-exhausted";
    public const string RetryAfterExceedsDeadline = "retry-after-exceeds-deadline";
    public const string TimedOut = "timeout";
    public const string NotRetried = "not-retried";
    public const string RetriesStoppedByOpenCircuit = "retries-stopped-by-open-circuit";
    public const string ConcurrencyLimited = "concurrency-limited";
    public const string Throttled = "throttled";

    public static string? ToName(HttpResilienceOutcome outcome) => outcome switch
    {
        HttpResilienceOutcome.Stale => Stale,
        HttpResilienceOutcome.CircuitOpen => CircuitOpen,
        HttpResilienceOutcome.RetriesExhausted => RetriesExhausted,
        HttpResilienceOutcome.RetryBudgetExhausted => RetryBudgetExhausted,
        HttpResilienceOutcome.RetryAfterExceedsDeadline => RetryAfterExceedsDeadline,
        HttpResilienceOutcome.TimedOut => TimedOut,
        HttpResilienceOutcome.NotRetried => NotRetried,
        HttpResilienceOutcome.RetriesStoppedByOpenCircuit => RetriesStoppedByOpenCircuit,
        HttpResilienceOutcome.ConcurrencyLimited => ConcurrencyLimited,
        HttpResilienceOutcome.Throttled => Throttled,
        _ => null,
    };
}
