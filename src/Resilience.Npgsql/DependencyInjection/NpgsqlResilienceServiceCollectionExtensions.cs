using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Health;
using Resilience.Npgsql;
using Resilience.Retry;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the PostgreSQL adapter: data source, query timeouts, pool probe, health monitor and health check.</summary>
public static class NpgsqlResilienceServiceCollectionExtensions
{
    /// <summary>The tags of the registered health check.</summary>
    private static readonly string[] HealthCheckTags = ["ready", "database"];

    /// <summary>
    /// Registers an <see cref="NpgsqlDataSource"/>, a <see cref="ResilientDataSource"/> (retry, circuit breaker, query timeouts), an <see cref="NpgsqlPoolProbe"/> (as
    /// <see cref="IPoolProbe"/>), a <see cref="PoolHealthMonitor"/> started and stopped with the host, and a health check named
    /// <c>postgres-pool</c> tagged <c>ready</c> and <c>database</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="connectionString">The PostgreSQL connection string (a pool <c>Cancellation Timeout</c> of 0, i.e. unbounded, is raised to 2 s).</param>
    /// <param name="configuration">
    /// The section to bind <see cref="NpgsqlResilienceOptions"/> from (keys <c>Name</c>, <c>TotalTimeout</c>, <c>QueryTimeouts:*</c>,
    /// <c>Retry:*</c>, <c>CircuitBreaker:*</c>, <c>PoolHealth:*</c>); optional.
    /// </param>
    /// <param name="configure">Adjusts the options after binding; optional.</param>
    /// <returns>The service collection.</returns>
    /// <remarks>
    /// Options are validated at start-up (<c>ValidateOnStart</c>); every broken rule is listed with its key. When a
    /// <see cref="CircuitBreakerRegistry"/> is registered (<c>AddResilience().AddCircuitBreakers(...)</c>), the database's breaker
    /// is created in it under <see cref="NpgsqlResilienceOptions.Name"/>, so its state shows in the registry's status report.
    /// </remarks>
    public static IServiceCollection AddNpgsqlResilience(
        this IServiceCollection services,
        string connectionString,
        IConfiguration? configuration = null,
        Action<NpgsqlResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);

        // Core's breaker registry, so the database breaker appears in the application's status report.
        services.AddResilience();
        var options = services.AddOptions<NpgsqlResilienceOptions>();
        if (configuration is not null)
        {
            options.Configure(o =>
            {
                if (configuration["Name"] is { Length: > 0 } name)
                {
                    o.Name = name;
                }

                if (configuration["TotalTimeout"] is { Length: > 0 } total)
                {
                    o.TotalTimeout = TimeSpan.TryParse(total, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
                        ? parsed
                        : throw new OptionsValidationException(
                            Microsoft.Extensions.Options.Options.DefaultName,
                            typeof(NpgsqlResilienceOptions),
                            [$"{(configuration is IConfigurationSection s ? s.Path + ":" : string.Empty)}TotalTimeout: '{total}' is not a duration; write it as \"hh:mm:ss\"."]);
                }

                if (configuration["DriverLogLevel"] is { Length: > 0 } level)
                {
                    o.DriverLogLevel = Enum.TryParse<LogLevel>(level, ignoreCase: true, out var parsedLevel)
                        ? parsedLevel
                        : throw new OptionsValidationException(
                            Microsoft.Extensions.Options.Options.DefaultName,
                            typeof(NpgsqlResilienceOptions),
                            [$"{(configuration is IConfigurationSection s ? s.Path + ":" : string.Empty)}DriverLogLevel: '{level}' is not a log level (Trace, Debug, Information, Warning, Error, Critical, None)."]);
                }

                configuration.GetSection("QueryTimeouts").Bind(o.QueryTimeouts);
                configuration.GetSection("Retry").Bind(o.Retry);
                configuration.GetSection("CircuitBreaker").Bind(o.CircuitBreaker);
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

            // The default limits travel with each physical connection, so a call under them costs no extra round trip.
            builder.UseQueryTimeouts(settings.QueryTimeouts);

            if (sp.GetService<ILoggerFactory>() is { } loggerFactory && settings.DriverLogLevel != LogLevel.None)
            {
                builder.UseLoggerFactory(new MinimumLevelLoggerFactory(loggerFactory, settings.DriverLogLevel));
            }

            return builder.Build();
        });
        services.TryAddSingleton(static sp =>
        {
            var settings = sp.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value;

            // A registry in DI owns the breaker, so its state shows in the registry's status report and gauge.
            var breaker = sp.GetService<CircuitBreakerRegistry>()?.GetOrAdd(settings.Name, ResilientDataSource.CreateBreakerOptions(settings.CircuitBreaker));
            return new ResilientDataSource(
                sp.GetRequiredService<NpgsqlDataSource>(),
                settings,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILoggerFactory>(),
                breaker);
        });
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value;
            return new NpgsqlPoolProbe(settings.Name, connectionString, settings.PoolHealth.PingTimeout,
                sp.GetRequiredService<ResilientDataSource>(), sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<IPoolProbe>(static sp => sp.GetRequiredService<NpgsqlPoolProbe>());
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value;
            var logger = sp.GetService<ILoggerFactory>()?.CreateLogger<PoolHealthMonitor>();
            var thresholds = PoolHealthThresholds.ForPool(settings.PoolHealth, connectionString);
            return new PoolHealthMonitor(sp.GetRequiredService<IPoolProbe>(), thresholds, sp.GetRequiredService<TimeProvider>(), logger, settings.Name);
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
