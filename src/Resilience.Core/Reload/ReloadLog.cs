using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.Reload;

/// <summary>Source-generated log events of configuration reload (IDs 1600–1699).</summary>
internal static partial class ReloadLog
{
    [LoggerMessage(EventId = ResilienceEventIds.OptionsReloadRejected, EventName = "OptionsReloadRejected", Level = LogLevel.Warning,
        Message = "Reloaded {OptionsType} '{Name}' rejected; the previous options stay in force: {Errors}")]
    public static partial void Rejected(ILogger logger, Exception? exception, string optionsType, string name, string errors);

    [LoggerMessage(EventId = ResilienceEventIds.OptionsReloaded, EventName = "OptionsReloaded", Level = LogLevel.Information,
        Message = "Reloaded {OptionsType} '{Name}' applied.")]
    public static partial void Reloaded(ILogger logger, string optionsType, string name);

    [LoggerMessage(EventId = ResilienceEventIds.PipelineReloadFailed, EventName = "PipelineReloadFailed", Level = LogLevel.Warning,
        Message = "Pipeline '{Name}' could not be rebuilt from its reloaded options; the previous pipeline stays in force.")]
    public static partial void PipelineReloadFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(EventId = ResilienceEventIds.OptionsReloadListenerFailed, EventName = "OptionsReloadListenerFailed", Level = LogLevel.Error,
        Message = "A listener of reloaded {OptionsType} '{Name}' threw; the new options are in force.")]
    public static partial void ListenerFailed(ILogger logger, Exception exception, string optionsType, string name);
}
