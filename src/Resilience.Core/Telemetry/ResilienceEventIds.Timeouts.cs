namespace Resilience.Telemetry;

/// <content>Event IDs of timeouts and deadlines (1300–1399).</content>
public static partial class ResilienceEventIds
{
    /// <summary>An attempt or total timeout fired (Warning).</summary>
    public const int TimeoutOccurred = 1300;

    /// <summary>A background task ran past its deadline and was cancelled (Error).</summary>
    public const int DeadlineExceeded = 1301;

    /// <summary>A background task did not stop within the grace period after its deadline cancelled it (Critical).</summary>
    public const int DeadlineWorkDidNotStop = 1302;
}
