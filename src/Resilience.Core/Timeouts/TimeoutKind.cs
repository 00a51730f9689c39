namespace Resilience.Timeouts;

/// <summary>Which timeout fired.</summary>
public enum TimeoutKind
{
    /// <summary>The limit on one attempt (inside the retry loop).</summary>
    Attempt = 0,

    /// <summary>The limit on the whole call, retries and delays included.</summary>
    Total = 1,

    /// <summary>The deadline of a long-running background task.</summary>
    Deadline = 2,
}
