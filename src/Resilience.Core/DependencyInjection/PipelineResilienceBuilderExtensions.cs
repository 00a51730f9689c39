using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Resilience;
using Resilience.CircuitBreaking;
using Resilience.DependencyInjection;
using Resilience.Reload;
using Resilience.Retry;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers named <see cref="ResiliencePipeline"/> and <see cref="ResiliencePipeline{TResult}"/> instances.</summary>
/// <remarks>
/// A pipeline is resolved as a keyed singleton under its name. Its options bind from the given section
/// (conventionally <c>Resilience:Pipelines:{name}</c>) and are validated at start-up; its breaker joins the
/// <see cref="CircuitBreakerRegistry"/> under the pipeline's name, so it appears in the status report.
/// When the section changes, valid new options rebuild the pipeline's layers inside the one resolved instance (each call
/// runs under the old or the new ones; the breaker keeps its state); invalid ones are logged (event 1600) and ignored.
/// </remarks>
public static class PipelineResilienceBuilderExtensions
{
    /// <summary>The conventional configuration section of pipelines: <c>Resilience:Pipelines</c>.</summary>
    public const string ConfigurationSection = "Resilience:Pipelines";

    /// <summary>Registers a pipeline configured from <paramref name="section"/>.</summary>
    /// <param name="builder">The resilience builder.</param>
    /// <param name="name">The pipeline's name and service key.</param>
    /// <param name="section">The pipeline's section, e.g. <c>configuration.GetSection("Resilience:Pipelines:orders-db")</c>.</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddPipeline(this ResilienceBuilder builder, string name, IConfiguration section) =>
        builder.AddPipeline(name, section, static (_, _) => { });

    /// <summary>Registers a pipeline configured from <paramref name="section"/>, then by <paramref name="configure"/>.</summary>
    /// <param name="builder">The resilience builder.</param>
    /// <param name="name">The pipeline's name and service key.</param>
    /// <param name="section">The pipeline's section, e.g. <c>configuration.GetSection("Resilience:Pipelines:orders-db")</c>.</param>
    /// <param name="configure">Further configuration in code (runs after the section).</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddPipeline(this ResilienceBuilder builder, string name, IConfiguration section, Action<ResiliencePipelineBuilder, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Register(builder, name, section);
        builder.Services.AddKeyedSingleton(name, (sp, _) => new PipelineReload<ResiliencePipeline>(sp, name, (options, carry) =>
        {
            var pipeline = new ResiliencePipelineBuilder(name);
            Apply(pipeline, sp, name, options, carry);
            configure(pipeline, sp);
            return pipeline.Build();
        }));
        builder.Services.AddKeyedSingleton(name, static (sp, key) => sp.GetRequiredKeyedService<PipelineReload<ResiliencePipeline>>(key).Pipeline);
        return builder;
    }

    /// <summary>Registers a typed pipeline (results that count as failures, cached fallback) configured from <paramref name="section"/>, then by <paramref name="configure"/>.</summary>
    /// <typeparam name="TResult">The type of the operation's result.</typeparam>
    /// <param name="builder">The resilience builder.</param>
    /// <param name="name">The pipeline's name and service key.</param>
    /// <param name="section">The pipeline's section.</param>
    /// <param name="configure">Further configuration in code, e.g. <c>ShouldHandleResult</c> and <c>AddFallback</c>.</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddPipeline<TResult>(this ResilienceBuilder builder, string name, IConfiguration section, Action<ResiliencePipelineBuilder<TResult>, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Register(builder, name, section);
        builder.Services.AddKeyedSingleton(name, (sp, _) => new PipelineReload<ResiliencePipeline<TResult>>(sp, name, (options, carry) =>
        {
            var pipeline = new ResiliencePipelineBuilder<TResult>(name);
            Apply(pipeline, sp, name, options, carry);
            configure(pipeline, sp);
            return pipeline.Build();
        }));
        builder.Services.AddKeyedSingleton(name, static (sp, key) => sp.GetRequiredKeyedService<PipelineReload<ResiliencePipeline<TResult>>>(key).Pipeline);
        return builder;
    }

    private static void Register(ResilienceBuilder builder, string name, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(section);
        var path = section is IConfigurationSection s ? s.Path : $"{ConfigurationSection}:{name}";
        var breaker = section.GetSection("CircuitBreaker");
        if (breaker.Exists())
        {
            builder.AddCircuitBreaker(name, breaker);
        }

        var options = builder.Services.AddOptions<ResiliencePipelineOptions>(name).BindSection(section, OptionsSchemas.Pipeline);
        builder.Services.AddSingleton<IValidateOptions<ResiliencePipelineOptions>>(new ResiliencePipelineOptionsValidator(name, path));
        options.ReloadOnChange(section).ValidateOnStart();
    }

    private static void Apply<TBuilder>(ResiliencePipelineBuilderBase<TBuilder> pipeline, IServiceProvider services, string name, ResiliencePipelineOptions options, PipelineCarry carry)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        pipeline.TimeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        pipeline.LoggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        pipeline.Random = services.GetService<ResilienceRandom>()?.Random ?? Random.Shared;
        pipeline.MeterFactory = services.GetService<IMeterFactory>();
        if (options.ConcurrencyLimit is { } limit)
        {
            pipeline.AddRateLimiter(carry.Limiter(limit, options.QueueLimit));
        }

        if (options.TotalTimeout is { } total)
        {
            pipeline.AddTotalTimeout(total);
        }

        if (options.Retry is { } retry)
        {
            var withBudget = options.RetryBudget is { } budget ? new RetryOptions(retry) { Budget = carry.Budget(budget, pipeline.TimeProvider) } : retry;
            RetryOptionsValidator.ThrowIfInvalid(withBudget);
            pipeline.SetLayer(new RetryLayer.Spec(withBudget, carry.Statistics));
        }

        if (options.CircuitBreaker)
        {
            pipeline.AddCircuitBreaker(services.GetRequiredKeyedService<CircuitBreaker>(name));
        }

        if (options.AttemptTimeout is { } attempt)
        {
            pipeline.AddAttemptTimeout(attempt);
        }

        foreach (var layer in services.GetKeyedServices<PipelineLayerRegistration>(name))
        {
            pipeline.SetLayer(layer.Create(services, name));
        }
    }
}
