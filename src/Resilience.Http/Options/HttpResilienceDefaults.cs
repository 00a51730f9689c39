namespace Resilience.Http;

/// <summary>
/// The defaults of <see cref="HttpResilienceOptions"/> (the <c>standard</c> preset) and the bounds that validation enforces.
/// </summary>
/// <remarks>One place for the numbers: the option initializers, the validation ranges and the docs all read these.</remarks>
internal static class HttpResilienceDefaults
{
    // Same total and attempt budget as Microsoft's standard handler: callers of both see the same worst case.
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    public const int MaxRetries = 3;

    // 1 s base (not 2 s): with 10 s attempts inside 30 s, a 2 s exponential schedule (2, 4, 8 s) leaves room for
    // at most two retries anyway; a shorter base lets the retries that fit happen while the caller still waits.
    public static readonly TimeSpan BaseDelay = TimeSpan.FromSeconds(1);

    // Also the cap for a server's Retry-After hint: a longer hint fails fast with the hint instead of waiting.
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(15);

    // Consecutive failures (not a failure ratio with a minimum throughput of 100): a client that calls a provider a
    // few times a minute would never reach 100 calls in a 30 s window, so a ratio breaker would never open.
    public const int FailureThreshold = 5;

    /// <summary>The total timeout when it is not set: the default, or a longer attempt timeout that was set.</summary>
    public static TimeSpan DeriveTotalTimeout(TimeSpan? attemptTimeout) =>
        attemptTimeout is { } attempt && attempt > TotalTimeout ? attempt : TotalTimeout;

    /// <summary>The attempt timeout when it is not set: the default, at most the total timeout.</summary>
    public static TimeSpan DeriveAttemptTimeout(TimeSpan totalTimeout) =>
        totalTimeout < AttemptTimeout ? totalTimeout : AttemptTimeout;

    /// <summary>The maximum delay when it is not set: the default, at most half the total timeout (so an attempt fits after the delay), at least a base delay that was set.</summary>
    public static TimeSpan DeriveMaxDelay(TimeSpan totalTimeout, TimeSpan? baseDelay)
    {
        var half = totalTimeout / 2;
        var delay = half < MaxDelay ? half : MaxDelay;
        return baseDelay is { } set && set > delay ? set : delay;
    }

    /// <summary>The base delay when it is not set: the default, at most the maximum delay.</summary>
    public static TimeSpan DeriveBaseDelay(TimeSpan maxDelay) => maxDelay < BaseDelay ? maxDelay : BaseDelay;

    // 30 s (not 5 s): an upstream that failed five times in a row is usually down for longer than 5 s, and probing
    // it every 5 s per authority mostly adds load to a recovering service.
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    public const int MaxTrackedAuthorities = 64;

    // 1 MiB: prompts and JSON bodies fit; uploads of files beyond it are sent once and never retried.
    public const int MaxBufferedContentBytes = 1024 * 1024;

    // On (Microsoft's standard handler has none): during an outage each caller's retries would otherwise multiply the
    // load on the failing upstream up to (MaxRetries + 1) times until the breaker opens.
    public const bool RetryBudgetEnabled = true;
    public const double RetryBudgetMaxTokens = 10;
    public const double RetryBudgetDepositPerSuccess = 0.1;
    public const int RetryBudgetMinRetriesPerSecond = 1;
    public const double MinBudgetTokens = 0.001;
    public const double MaxBudgetTokens = 1_000_000;
    public const double MinBudgetDeposit = 0.000001;
    public const double MaxBudgetDeposit = 1000;
    public const int MaxBudgetMinRetriesPerSecond = 1_000_000;

    public const bool CachedFallbackEnabled = false;
    public const int CachedFallbackMaxEntries = 256;
    public const int CachedFallbackMaxBodyBytes = 256 * 1024;
    public static readonly TimeSpan CachedFallbackMaxStaleness = TimeSpan.FromMinutes(5);

    public const bool HedgingEnabled = false;
    public const int MaxHedgedAttempts = 1;
    public const int MaxHedgedAttemptsBound = 10;
    public static readonly TimeSpan HedgingDelay = TimeSpan.FromSeconds(2);

    // Validation bounds (strings because DataAnnotations' RangeAttribute takes TimeSpan bounds as text).
    public const string MinTimeout = "00:00:00.001";
    public const string MaxTimeout = "1.00:00:00";
    public const string MinDelay = "00:00:00";
    public const string MaxDelayBound = "01:00:00";
    public const string MinBreak = "00:00:00.001";
    public const string MaxBreak = "1.00:00:00";
    public const string MaxStaleness = "7.00:00:00";
    public const int MaxRetriesBound = 100;
    public const int MaxFailureThresholdBound = 10_000;
    public const int MaxTrackedAuthoritiesBound = 10_000;
    public const int MaxEntriesBound = 100_000;
}
