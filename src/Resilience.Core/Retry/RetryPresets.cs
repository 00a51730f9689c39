namespace Resilience.Retry;

/// <summary>Ready-made retry settings for the two kinds of dependency the seeds configure.</summary>
/// <remarks>Each property returns a fresh instance, so changing one never changes another caller's settings.</remarks>
public static class RetryPresets
{
    /// <summary>Gets settings for database calls (the seeds' <c>DB_RETRY_CONFIG</c>).</summary>
    /// <value>
    /// 3 retries, 100 ms base delay, 2 s cap, exponential backoff ×2, decorrelated jitter, name <c>database</c>.
    /// Pair it with a predicate that retries only transient database errors.
    /// </value>
    public static RetryOptions Database => new()
    {
        Name = "database",
        MaxRetries = 3,
        BaseDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(2),
        Backoff = RetryBackoff.Exponential,
        BackoffFactor = 2.0,
        Jitter = RetryJitter.Decorrelated,
    };

    /// <summary>Gets settings for calls to HTTP APIs (the seeds' <c>API_RETRY_CONFIG</c>).</summary>
    /// <value>
    /// 3 retries, 500 ms base delay, 10 s cap, exponential backoff ×2, decorrelated jitter, name <c>http-api</c>.
    /// Pair it with a predicate for transient HTTP failures and a Retry-After extractor
    /// (see <see cref="RetryOptions{TResult}"/>).
    /// </value>
    public static RetryOptions HttpApi => new()
    {
        Name = "http-api",
        MaxRetries = 3,
        BaseDelay = TimeSpan.FromMilliseconds(500),
        MaxDelay = TimeSpan.FromSeconds(10),
        Backoff = RetryBackoff.Exponential,
        BackoffFactor = 2.0,
        Jitter = RetryJitter.Decorrelated,
    };
}
