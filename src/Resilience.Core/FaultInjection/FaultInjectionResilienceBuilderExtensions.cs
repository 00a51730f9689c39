using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Resilience;
using Resilience.DependencyInjection;
using Resilience.FaultInjection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds fault injection to a pipeline registered with <c>AddPipeline</c>.</summary>
public static class FaultInjectionResilienceBuilderExtensions
{
    /// <summary>
    /// Adds fault injection, configured from <paramref name="section"/> (<c>Enabled</c>, <c>ExceptionRate</c>,
    /// <c>LatencyRate</c>, <c>Latency</c>), to the pipeline named <paramref name="pipelineName"/>. The pipeline's
    /// <see cref="FaultInjector"/> is a keyed singleton under the same name: resolve it to switch faults on and off.
    /// </summary>
    /// <param name="builder">The resilience builder.</param>
    /// <param name="pipelineName">The name the pipeline is registered under.</param>
    /// <param name="section">The options' section, conventionally <c>configuration.GetSection("Resilience:FaultInjection:orders-db")</c> (not inside the pipeline's own section).</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddFaultInjection(this ResilienceBuilder builder, string pipelineName, IConfiguration section)
    {
        KindOptionsRegistration.Add(builder, pipelineName, section, "FaultInjection", OptionsSchemas.FaultInjection, new FaultInjectionOptionsValidator());
        builder.Services.AddKeyedSingleton(pipelineName, static (sp, key) =>
            new FaultInjector(sp.GetRequiredService<IOptionsMonitor<FaultInjectionOptions>>().Get((string)key!)));
        builder.Services.AddKeyedSingleton(pipelineName, new PipelineLayerRegistration(
            static (sp, name) => new FaultInjectionLayer.Spec(sp.GetRequiredKeyedService<FaultInjector>(name))));
        return builder;
    }
}
