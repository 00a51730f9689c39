namespace Resilience.Telemetry;

/// <content>Event IDs of adaptive throttling (1900–1999). A part of the shared class, so it takes that class's namespace, not its folder's.</content>
public static partial class ResilienceEventIds
{
    /// <summary>A request was refused locally because the dependency accepted too few of the recent ones (Debug).</summary>
    public const int RequestThrottled = 1900;
}
