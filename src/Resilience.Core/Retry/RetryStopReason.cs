namespace Resilience.Retry;

/// <summary>Why a retry strategy stopped retrying a failure that was worth a retry.</summary>
public enum RetryStopReason
{
    /// <summary>Every retry allowed by <see cref="RetryOptions.MaxRetries"/> was made.</summary>
    Exhausted,

    /// <summary>The retry budget (<see cref="RetryOptions.Budget"/>) was empty.</summary>
    BudgetExhausted,

    /// <summary>The next delay would have ended past the deadline (total timeout, <see cref="Timeouts.Deadline"/>), so the last failure surfaced at once.</summary>
    DeadlineReached,
}
