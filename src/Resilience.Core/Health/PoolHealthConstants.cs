namespace Resilience.Health;

/// <summary>Defaults and limits of <see cref="PoolHealthOptions"/>, used by the initializers, the validation and the docs.</summary>
internal static class PoolHealthConstants
{
    public const string DefaultName = "default";

    public static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan MinCheckInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxCheckInterval = TimeSpan.FromHours(1);

    public static readonly TimeSpan DefaultPingTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultSlowPingThreshold = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultWaitersSustainedFor = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultAcquireWaitBudget = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultAcquireTimeoutWindow = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan DefaultMaxReportAge = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MaxMaxReportAge = TimeSpan.FromHours(1);

    public const int DefaultCriticalAfterPingFailures = 3;
    public const int MaxCriticalAfterPingFailures = 100;
}
