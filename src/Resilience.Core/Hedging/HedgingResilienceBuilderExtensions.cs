using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Resilience;
using Resilience.DependencyInjection;
using Resilience.Hedging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds hedging to a pipeline registered with <c>AddPipeline</c>.</summary>
public static class HedgingResilienceBuilderExtensions
{
    /// <summary>
    /// Adds hedging, configured from <paramref name="section"/> (<c>MaxHedgedAttempts</c>, <c>Delay</c>), to the
    /// pipeline named <paramref name="pipelineName"/>; the options are validated at start-up.
    /// </summary>
    /// <param name="builder">The resilience builder.</param>
    /// <param name="pipelineName">The name the pipeline is registered under.</param>
    /// <param name="section">The options' section, conventionally <c>configuration.GetSection("Resilience:Hedging:llm")</c> (not inside the pipeline's own section).</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddHedging(this ResilienceBuilder builder, string pipelineName, IConfiguration section)
    {
        KindOptionsRegistration.Add(builder, pipelineName, section, "Hedging", OptionsSchemas.Hedging, new HedgingOptionsValidator());
        builder.Services.AddKeyedSingleton(pipelineName, new PipelineLayerRegistration(
            static (sp, name) => new HedgingLayer.Spec(sp.GetRequiredService<IOptionsMonitor<HedgingOptions>>().Get(name))));
        return builder;
    }
}
