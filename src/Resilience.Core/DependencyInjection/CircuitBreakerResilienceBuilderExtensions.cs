using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.DependencyInjection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers named circuit breakers.</summary>
public static class CircuitBreakerResilienceBuilderExtensions
{
    /// <summary>The configuration section whose children configure breakers by name: <c>Resilience:CircuitBreakers:{name}</c>.</summary>
    public const string ConfigurationSection = "Resilience:CircuitBreakers";

    /// <summary>Registers the breaker <paramref name="name"/> with default options.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The breaker's name.</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddCircuitBreaker(this ResilienceBuilder builder, string name) =>
        builder.AddCircuitBreaker(name, static _ => { });

    /// <summary>Registers the breaker <paramref name="name"/>, configured in code; options are validated at start-up.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The breaker's name.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// Registers <see cref="CircuitBreakerRegistry"/> as a singleton (using <see cref="TimeProvider"/> and
    /// <see cref="ILoggerFactory"/> from the container when registered) and the breaker as a keyed singleton under
    /// <paramref name="name"/>. Validation errors are reported under <c>Resilience:CircuitBreakers:{name}:{key}</c>.
    /// </remarks>
    public static ResilienceBuilder AddCircuitBreaker(this ResilienceBuilder builder, string name, Action<CircuitBreakerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        Register(builder.Services, name, $"{ConfigurationSection}:{name}").Configure(configure);

        return builder;
    }

    /// <summary>Registers the breaker <paramref name="name"/>, bound from <paramref name="section"/>; options are validated at start-up.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">The breaker's name.</param>
    /// <param name="section">The section holding the option keys (e.g. <c>Resilience:CircuitBreakers:orders</c>); unknown keys are errors.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// When the section changes, valid new options apply to the live breaker without resetting its state
    /// (<see cref="CircuitBreaker.UpdateOptions"/>); invalid ones are logged (event 1600) and the old ones stay.
    /// </remarks>
    public static ResilienceBuilder AddCircuitBreaker(this ResilienceBuilder builder, string name, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(section);
        var path = section is IConfigurationSection s ? s.Path : $"{ConfigurationSection}:{name}";
        Register(builder.Services, name, path).BindSection(section, OptionsSchemas.CircuitBreaker).ReloadOnChange(section);
        return builder;
    }

    /// <summary>Registers one breaker per child of the <c>Resilience:CircuitBreakers</c> section of <paramref name="configuration"/>, named by the child's key.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configuration">The application's configuration root.</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder AddCircuitBreakers(this ResilienceBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var child in configuration.GetSection(ConfigurationSection).GetChildren())
        {
            builder.AddCircuitBreaker(child.Key, child);
        }

        return builder;
    }

    private static OptionsBuilder<CircuitBreakerOptions> Register(IServiceCollection services, string name, string keyPrefix)
    {
        services.AddSingleton(new RegisteredCircuitBreaker(name));
        services.AddKeyedSingleton(name, static (sp, key) => sp.GetRequiredService<CircuitBreakerRegistry>().GetOrAdd((string)key!));
        services.AddSingleton<IValidateOptions<CircuitBreakerOptions>>(new CircuitBreakerOptionsValidator(name, keyPrefix));
        return services.AddOptions<CircuitBreakerOptions>(name).ValidateOnStart();
    }
}

/// <summary>Marks a breaker name registered through DI, so the registry creates it eagerly and reports it.</summary>
internal sealed record RegisteredCircuitBreaker(string Name);
