namespace Resilience.Telemetry;

/// <content>Event IDs of the fallback (1100–1199).</content>
public static partial class ResilienceEventIds
{
    /// <summary>A cached (stale) value was served instead of a failed call.</summary>
    public const int FallbackStaleServed = 1100;

    /// <summary>A static fallback value was served instead of a failed call.</summary>
    public const int FallbackStaticServed = 1101;

    /// <summary>A call failed and no fallback was usable (none cached, or too old); the original failure surfaced.</summary>
    public const int FallbackUnavailable = 1102;
}
