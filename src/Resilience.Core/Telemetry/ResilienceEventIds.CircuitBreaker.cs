namespace Resilience.Telemetry;

/// <content>Event IDs of the circuit breaker (1000–1099).</content>
public static partial class ResilienceEventIds
{
    /// <summary>A circuit opened (from closed, or from half-open after a failed probe).</summary>
    public const int CircuitOpened = 1000;

    /// <summary>An open circuit's break elapsed and it admits probe calls.</summary>
    public const int CircuitHalfOpened = 1001;

    /// <summary>A circuit closed (its probes succeeded, or it was reset).</summary>
    public const int CircuitClosed = 1002;

    /// <summary>A circuit was isolated manually.</summary>
    public const int CircuitIsolated = 1003;

    /// <summary>A state-change callback threw; the exception was logged and ignored.</summary>
    public const int CircuitStateChangedCallbackFailed = 1004;

    /// <summary>A half-open circuit's probes did not report within the probe timeout; new probes are admitted (Warning).</summary>
    public const int CircuitProbeAbandoned = 1005;
}
