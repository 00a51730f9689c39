namespace Resilience;

/// <summary>
/// A layer a kind's DI extension adds to a pipeline registered with <c>AddPipeline</c>, registered as a keyed service
/// under the pipeline's name; the pipeline's factory applies every one, so a new kind needs no change to the pipeline's DI.
/// </summary>
internal sealed class PipelineLayerRegistration(Func<IServiceProvider, string, PipelineLayerSpec> create)
{
    public PipelineLayerSpec Create(IServiceProvider services, string pipelineName) => create(services, pipelineName);
}
