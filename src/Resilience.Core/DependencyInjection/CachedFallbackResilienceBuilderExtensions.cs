using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.DependencyInjection;
using Resilience.Fallback;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers named cached fallbacks.</summary>
public static class CachedFallbackResilienceBuilderExtensions
{
    // Where errors of a fallback configured in code are reported: the conventional section of fallbacks.
    private const string ConfigurationSection = "Resilience:Fallbacks";

    /// <summary>Registers a <see cref="CachedFallback{TKey, TValue}"/> as a keyed singleton under <paramref name="name"/>; options are validated at start-up.</summary>
    /// <typeparam name="TKey">The type of the key.</typeparam>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The fallback's name.</param>
    /// <param name="configure">Configures the options; defaults when <see langword="null"/>.</param>
    /// <param name="staticFallback">Produces a value when nothing usable is cached; <see langword="null"/> for none.</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddCachedFallback<TKey, TValue>(this ResilienceBuilder builder, string name, Action<CachedFallbackOptions>? configure = null, Func<TKey, TValue>? staticFallback = null)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = Register(builder.Services, name, $"{ConfigurationSection}:{name}", staticFallback);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return builder;
    }

    /// <summary>Registers a <see cref="CachedFallback{TKey, TValue}"/> bound from <paramref name="section"/> (keys <c>MaxEntries</c>, <c>MaxStaleness</c>).</summary>
    /// <typeparam name="TKey">The type of the key.</typeparam>
    /// <typeparam name="TValue">The type of the value.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The fallback's name.</param>
    /// <param name="section">The configuration section.</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddCachedFallback<TKey, TValue>(this ResilienceBuilder builder, string name, IConfiguration section)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(section);
        var path = section is IConfigurationSection s ? s.Path : $"{ConfigurationSection}:{name}";
        Register<TKey, TValue>(builder.Services, name, path, null).BindSection(section, OptionsSchemas.CachedFallback);
        return builder;
    }

    private static OptionsBuilder<CachedFallbackOptions> Register<TKey, TValue>(IServiceCollection services, string name, string path, Func<TKey, TValue>? staticFallback)
        where TKey : notnull
    {
        services.AddKeyedSingleton(name, (sp, _) => new CachedFallback<TKey, TValue>(
            name,
            sp.GetRequiredService<IOptionsMonitor<CachedFallbackOptions>>().Get(name),
            staticFallback,
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger("Resilience.Fallback"),
            sp.GetService<IMeterFactory>()));
        services.AddSingleton<IValidateOptions<CachedFallbackOptions>>(new NamedOptionsValidator<CachedFallbackOptions>(
            name, path, static (options, section, errors) => errors.AddResult(section, OptionsErrors.Run(new CachedFallbackOptionsValidator(), options))));
        return services.AddOptions<CachedFallbackOptions>(name).ValidateOnStart();
    }
}
