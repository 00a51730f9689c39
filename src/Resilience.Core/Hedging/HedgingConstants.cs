namespace Resilience.Hedging;

/// <summary>The defaults and bounds of <see cref="HedgingOptions"/>.</summary>
internal static class HedgingConstants
{
    public const int DefaultMaxHedgedAttempts = 1;

    /// <summary>More concurrent copies of one call than this is load, not latency insurance.</summary>
    public const int MaxHedgedAttemptsLimit = 10;

    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(1);
}
