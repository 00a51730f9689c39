using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Resilience.Health;
using Resilience.Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the PostgreSQL adapter: data source, query timeouts, pool probe, health monitor and health check.</summary>
public static class NpgsqlResilienceServiceCollectionExtensions
{
    /// <summary>The tags of the registered health check.</summary>
    private static readonly string[] HealthCheckTags = ["ready", "database"];

    /// <summary>
    /// Registers an <see cref="NpgsqlDataSource"/>, a <see cref="ResilientDataSource"/>, an <see cref="NpgsqlPoolProbe"/> (as
    /// <see cref="IPoolProbe"/>), a <see cref="PoolHealthMonitor"/> started and stopped with the host, and a health check named
    /// <c>postgres-pool</c> tagged <c>ready</c> and <c>database</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="connectionString">The PostgreSQL connection string (a pool <c>Cancellation Timeout</c> of 0, i.e. unbounded, is raised to 2 s).</param>
    /// <param name="configuration">The section to bind <see cref="NpgsqlResilienceOptions"/> from (keys <c>QueryTimeouts:*</c>, <c>PoolHealth:*</c>); optional.</param>
    /// <param name="configure">Adjusts the options after binding; optional.</param>
    /// <returns>The service collection.</returns>
    /// <remarks>Options are validated at start-up (<c>ValidateOnStart</c>); every broken rule is listed with its key.</remarks>
    public static IServiceCollection AddNpgsqlResilience(
        this IServiceCollection services,
        string connectionString,
        IConfiguration? configuration = null,
        Action<NpgsqlResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);

        var options = services.AddOptions<NpgsqlResilienceOptions>();
        if (configuration is not null)
        {
            options.Configure(o =>
            {
                if (configuration["Name"] is { Length: > 0 } name)
                {
                    o.Name = name;
                }

                configuration.GetSection("QueryTimeouts").Bind(o.QueryTimeouts);
                configuration.GetSection("PoolHealth").Bind(o.PoolHealth);
            });
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NpgsqlResilienceOptions>, NpgsqlResilienceOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value;
            var builder = new NpgsqlDataSourceBuilder(connectionString) { Name = settings.Name };
            if (builder.ConnectionStringBuilder.CancellationTimeout == 0)
            {
                builder.ConnectionStringBuilder.CancellationTimeout = QueryTimeoutConstants.BoundedCancellationTimeoutMilliseconds;
            }

            if (sp.GetService<ILoggerFactory>() is { } loggerFactory)
            {
                builder.UseLoggerFactory(loggerFactory);
            }

            return builder.Build();
        });
        services.TryAddSingleton(sp => new ResilientDataSource(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value.QueryTimeouts,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value;
            return new NpgsqlPoolProbe(settings.Name, connectionString, settings.PoolHealth.PingTimeout,
                sp.GetRequiredService<ResilientDataSource>(), sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<IPoolProbe>(static sp => sp.GetRequiredService<NpgsqlPoolProbe>());
        services.TryAddSingleton(static sp =>
        {
            var settings = sp.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value;
            var logger = sp.GetService<ILoggerFactory>()?.CreateLogger<PoolHealthMonitor>();
            return new PoolHealthMonitor(sp.GetRequiredService<IPoolProbe>(), settings.PoolHealth, sp.GetRequiredService<TimeProvider>(), logger, settings.Name);
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PoolHealthMonitorHostedService>());
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            "postgres-pool",
            static sp => new PoolHealthCheck(sp.GetRequiredService<PoolHealthMonitor>()),
            failureStatus: null,
            HealthCheckTags));
        return services;
    }
}

/// <summary>Validates <see cref="NpgsqlResilienceOptions"/>: the name and both nested option groups, every failure keyed.</summary>
internal sealed class NpgsqlResilienceOptionsValidator : IValidateOptions<NpgsqlResilienceOptions>
{
    public ValidateOptionsResult Validate(string? name, NpgsqlResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            failures.Add($"{nameof(NpgsqlResilienceOptions.Name)} must not be empty.");
        }

        AddPrefixed(failures, nameof(NpgsqlResilienceOptions.QueryTimeouts), QueryTimeoutOptionsValidator.Instance.Validate(name, options.QueryTimeouts));
        AddPrefixed(failures, nameof(NpgsqlResilienceOptions.PoolHealth), PoolHealthValidation.Validate(options.PoolHealth));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void AddPrefixed(List<string> failures, string section, ValidateOptionsResult result)
    {
        if (result.Failed)
        {
            foreach (var failure in result.Failures!)
            {
                failures.Add(section + ":" + failure);
            }
        }
    }
}

/// <summary>Runs <see cref="PoolHealthOptions.Validate"/> and returns its failures instead of throwing.</summary>
internal static class PoolHealthValidation
{
    public static ValidateOptionsResult Validate(PoolHealthOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (OptionsValidationException ex)
        {
            return ValidateOptionsResult.Fail(ex.Failures);
        }
    }
}
