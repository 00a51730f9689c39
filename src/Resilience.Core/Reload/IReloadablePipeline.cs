namespace Resilience.Reload;

/// <summary>A pipeline whose layers a configuration reload replaces in place, so every holder of the instance gets the new ones.</summary>
internal interface IReloadablePipeline
{
    /// <summary>Gets the layers in force.</summary>
    PipelineEngine Engine { get; }

    /// <summary>Puts <paramref name="engine"/> in force for calls that start from now on; calls under way finish on the old one.</summary>
    void Reload(PipelineEngine engine);
}
