using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Resilience;
using Resilience.AdaptiveConcurrency;
using Resilience.DependencyInjection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the adaptive concurrency limit to a pipeline registered with <c>AddPipeline</c>.</summary>
public static class AdaptiveConcurrencyResilienceBuilderExtensions
{
    /// <summary>The options' configuration keys; the adapters nest them in their own sections, so a new key reaches them too.</summary>
    internal static readonly OptionsSchema<AdaptiveConcurrencyOptions> Schema = new(
        ("InitialLimit", static (o, k, e) => o.InitialLimit = OptionsValue.Int(k, e, o.InitialLimit)),
        ("MinLimit", static (o, k, e) => o.MinLimit = OptionsValue.Int(k, e, o.MinLimit)),
        ("MaxLimit", static (o, k, e) => o.MaxLimit = OptionsValue.Int(k, e, o.MaxLimit)),
        ("QueueLimit", static (o, k, e) => o.QueueLimit = OptionsValue.Int(k, e, o.QueueLimit)),
        ("MaxQueueWait", static (o, k, e) => o.MaxQueueWait = OptionsValue.TimeSpan(k, e, o.MaxQueueWait)),
        ("Tolerance", static (o, k, e) => o.Tolerance = OptionsValue.Double(k, e, o.Tolerance)),
        ("Smoothing", static (o, k, e) => o.Smoothing = OptionsValue.Double(k, e, o.Smoothing)),
        ("SampleWindow", static (o, k, e) => o.SampleWindow = OptionsValue.TimeSpan(k, e, o.SampleWindow)),
        ("BaselineInterval", static (o, k, e) => o.BaselineInterval = OptionsValue.TimeSpan(k, e, o.BaselineInterval)),
        ("SheddableShare", static (o, k, e) => o.SheddableShare = OptionsValue.Double(k, e, o.SheddableShare)),
        ("PerAttempt", static (o, k, e) => o.PerAttempt = OptionsValue.Bool(k, e, o.PerAttempt)));

    /// <summary>
    /// Adds an adaptive concurrency limit, configured from <paramref name="section"/> (<c>InitialLimit</c>, <c>MinLimit</c>,
    /// <c>MaxLimit</c>, <c>QueueLimit</c>, <c>MaxQueueWait</c>, <c>Tolerance</c>, <c>Smoothing</c>, <c>SampleWindow</c>,
    /// <c>BaselineInterval</c>, <c>SheddableShare</c>, <c>PerAttempt</c>), to the pipeline named <paramref name="pipelineName"/>. The
    /// <see cref="AdaptiveConcurrencyLimiter"/> is a keyed singleton under the same name (for a status page), and keeps its
    /// limit across reloads of the pipeline.
    /// </summary>
    /// <param name="builder">The resilience builder.</param>
    /// <param name="pipelineName">The name the pipeline is registered under.</param>
    /// <param name="section">The options' section, e.g. <c>configuration.GetSection("Resilience:ConcurrencyLimits:llm")</c>.</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddAdaptiveConcurrencyLimit(this ResilienceBuilder builder, string pipelineName, IConfiguration section)
    {
        KindOptionsRegistration.Add(builder, pipelineName, section, "AdaptiveConcurrency", Schema, new AdaptiveConcurrencyOptionsValidator());
        builder.Services.AddKeyedSingleton(pipelineName, static (sp, key) =>
        {
            var name = (string)key!;
            return new AdaptiveConcurrencyLimiter(
                name,
                sp.GetRequiredService<IOptionsMonitor<AdaptiveConcurrencyOptions>>().Get(name),
                sp.GetService<TimeProvider>(),
                sp.GetService<ILoggerFactory>()?.CreateLogger("Resilience.AdaptiveConcurrency." + name) ?? NullLogger.Instance,
                sp.GetService<System.Diagnostics.Metrics.IMeterFactory>());
        });
        builder.Services.AddKeyedSingleton(pipelineName, new PipelineLayerRegistration(
            static (sp, name) => new AdaptiveConcurrencyLayer.Spec(sp.GetRequiredKeyedService<AdaptiveConcurrencyLimiter>(name))));
        return builder;
    }
}
