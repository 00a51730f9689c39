namespace Resilience.Fallback;

/// <summary>Defaults and limits of <see cref="CachedFallbackOptions"/>.</summary>
internal static class CachedFallbackConstants
{
    public const int DefaultMaxEntries = 1024;
    public const int MaxMaxEntries = 10_000_000;
    public static readonly TimeSpan DefaultMaxStaleness = TimeSpan.FromMinutes(5);
    public const string MinStaleness = "00:00:00.001";
    public const string MaxStaleness = "30.00:00:00";
    public const string StaleKind = "stale";
    public const string StaticKind = "static";
}
