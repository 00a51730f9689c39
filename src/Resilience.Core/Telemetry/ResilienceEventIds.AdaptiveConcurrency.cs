namespace Resilience.Telemetry;

/// <content>Event IDs of the adaptive concurrency limit (1800–1899). A part of the shared class, so it takes that class's namespace, not its folder's.</content>
public static partial class ResilienceEventIds
{
    /// <summary>A window of latency samples moved the concurrency limit (Debug).</summary>
    public const int ConcurrencyLimitChanged = 1800;

    /// <summary>The concurrency limit refused a call: queue full, wait ran out, or a sheddable call over its share (Debug).</summary>
    public const int ConcurrencyLimitRejected = 1801;

    /// <summary>A callback of the limit threw: OnLimitChanged (the new limit stands) or ClassifyFailure (the call counts as a sample) (Error).</summary>
    public const int ConcurrencyLimitCallbackFailed = 1802;
}
