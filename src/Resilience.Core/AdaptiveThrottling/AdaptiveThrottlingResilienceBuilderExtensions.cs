using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Resilience;
using Resilience.AdaptiveThrottling;
using Resilience.DependencyInjection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds client-side adaptive throttling to a pipeline registered with <c>AddPipeline</c>.</summary>
public static class AdaptiveThrottlingResilienceBuilderExtensions
{
    /// <summary>The options' configuration keys; the adapters nest them in their own sections, so a new key reaches them too.</summary>
    internal static readonly OptionsSchema<AdaptiveThrottlingOptions> Schema = new(
        ("Multiplier", static (o, k, e) => o.Multiplier = OptionsValue.Double(k, e, o.Multiplier)),
        ("Window", static (o, k, e) => o.Window = OptionsValue.TimeSpan(k, e, o.Window)),
        ("MinimumThroughput", static (o, k, e) => o.MinimumThroughput = OptionsValue.Int(k, e, o.MinimumThroughput)));

    /// <summary>
    /// Adds adaptive throttling, configured from <paramref name="section"/> (<c>Multiplier</c>, <c>Window</c>,
    /// <c>MinimumThroughput</c>), to the pipeline named <paramref name="pipelineName"/>. The <see cref="AdaptiveThrottler"/>
    /// is a keyed singleton under the same name, and keeps its window across reloads of the pipeline.
    /// </summary>
    /// <param name="builder">The resilience builder.</param>
    /// <param name="pipelineName">The name the pipeline is registered under.</param>
    /// <param name="section">The options' section, e.g. <c>configuration.GetSection("Resilience:Throttling:llm")</c>.</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddAdaptiveThrottling(this ResilienceBuilder builder, string pipelineName, IConfiguration section)
    {
        KindOptionsRegistration.Add(builder, pipelineName, section, "AdaptiveThrottling", Schema, new AdaptiveThrottlingOptionsValidator());
        builder.Services.AddKeyedSingleton(pipelineName, static (sp, key) =>
        {
            var name = (string)key!;
            return new AdaptiveThrottler(
                name,
                sp.GetRequiredService<IOptionsMonitor<AdaptiveThrottlingOptions>>().Get(name),
                sp.GetService<TimeProvider>(),
                sp.GetService<ResilienceRandom>()?.Random,
                sp.GetService<ILoggerFactory>()?.CreateLogger("Resilience.AdaptiveThrottling." + name) ?? NullLogger.Instance,
                sp.GetService<System.Diagnostics.Metrics.IMeterFactory>());
        });
        builder.Services.AddKeyedSingleton(pipelineName, new PipelineLayerRegistration(
            static (sp, name) => new AdaptiveThrottlingLayer.Spec(sp.GetRequiredKeyedService<AdaptiveThrottler>(name))));
        return builder;
    }
}
