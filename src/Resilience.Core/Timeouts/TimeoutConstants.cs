namespace Resilience.Timeouts;

/// <summary>Defaults and limits of timeouts, shared by the initializers, the validation and the docs.</summary>
internal static class TimeoutConstants
{
    public const string DefaultName = "timeout";
    public const string AttemptTag = "attempt";
    public const string TotalTag = "total";
    public const string DeadlineTag = "deadline";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    /// <summary>The seeds' per-task limit for background work.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromSeconds(30);

    public static string TagOf(TimeoutKind kind) => kind switch
    {
        TimeoutKind.Attempt => AttemptTag,
        TimeoutKind.Total => TotalTag,
        _ => DeadlineTag,
    };
}
