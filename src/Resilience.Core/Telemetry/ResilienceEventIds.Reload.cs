namespace Resilience.Telemetry;

public static partial class ResilienceEventIds
{
    /// <summary>Options changed in configuration were invalid and rejected; the previous options stay in force (Warning).</summary>
    public const int OptionsReloadRejected = 1600;

    /// <summary>Options changed in configuration were valid and applied (Information).</summary>
    public const int OptionsReloaded = 1601;

    /// <summary>A pipeline could not be rebuilt from reloaded options; the previous pipeline stays in force (Warning).</summary>
    public const int PipelineReloadFailed = 1602;

    /// <summary>A listener of reloaded options threw; the new options are in force (Error).</summary>
    public const int OptionsReloadListenerFailed = 1603;
}
