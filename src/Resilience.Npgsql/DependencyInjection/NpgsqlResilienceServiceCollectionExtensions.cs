using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.DependencyInjection;
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
    /// Options are validated at start-up (<c>ValidateOnStart</c>): every unknown key, unparsable value and broken rule is listed
    /// at once as <c>{Section}:{Key}: {rule}</c>, the same format as Core's and the HTTP adapter's options. When a
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
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(ResilientDataSource) && !descriptor.IsKeyedService)
            {
                throw new InvalidOperationException(
                    "AddNpgsqlResilience was already called: a second database would silently share the first one's data source. " +
                    "Register each further database by name with AddKeyedNpgsqlResilience.");
            }
        }

        Register(services, key: null, connectionString, configuration, configure);
        return services;
    }

    /// <summary>
    /// Registers one more database under <paramref name="name"/>: keyed services (<c>[FromKeyedServices(name)]</c>)
    /// <see cref="NpgsqlDataSource"/>, <see cref="ResilientDataSource"/>, <see cref="NpgsqlPoolProbe"/> and
    /// <see cref="PoolHealthMonitor"/>, the monitor started with the host, and a health check named <c>postgres-pool-{name}</c>
    /// tagged <c>ready</c> and <c>database</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The database's name: the service key, the named options, and the default <see cref="NpgsqlResilienceOptions.Name"/>.</param>
    /// <param name="connectionString">The database's connection string.</param>
    /// <param name="configuration">The section to bind <see cref="NpgsqlResilienceOptions"/> from (same keys as <see cref="AddNpgsqlResilience"/>); optional.</param>
    /// <param name="configure">Adjusts the options after binding; optional.</param>
    /// <returns>The service collection.</returns>
    /// <remarks>Each name has its own data source, breaker, pool probe, monitor and health check. The options are the named
    /// options <paramref name="name"/> (<c>IOptionsMonitor&lt;NpgsqlResilienceOptions&gt;.Get(name)</c>), validated at start-up.</remarks>
    /// <exception cref="InvalidOperationException"><paramref name="name"/> is already registered.</exception>
    public static IServiceCollection AddKeyedNpgsqlResilience(
        this IServiceCollection services,
        string name,
        string connectionString,
        IConfiguration? configuration = null,
        Action<NpgsqlResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(ResilientDataSource) && descriptor.IsKeyedService && Equals(descriptor.ServiceKey, name))
            {
                throw new InvalidOperationException($"A database named '{name}' is already registered.");
            }
        }

        Register(services, name, connectionString, configuration, configure);
        return services;
    }

    private static void Register(IServiceCollection services, string? key, string connectionString, IConfiguration? configuration, Action<NpgsqlResilienceOptions>? configure)
    {
        // Core's breaker registry, so the database breaker appears in the application's status report.
        services.AddResilience();
        var optionsName = key ?? Microsoft.Extensions.Options.Options.DefaultName;
        var options = services.AddOptions<NpgsqlResilienceOptions>(optionsName);
        if (key is not null)
        {
            options.Configure(o => o.Name = key);
        }

        // Errors are reported under the section's path, or under bare keys when the configuration is a root.
        var path = configuration is IConfigurationSection section ? section.Path : string.Empty;
        if (configuration is not null)
        {
            options.BindSection(configuration, NpgsqlOptionsSchema.Options);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddSingleton<IValidateOptions<NpgsqlResilienceOptions>>(
            new NamedOptionsValidator<NpgsqlResilienceOptions>(optionsName, path, NpgsqlResilienceOptionsValidator.Collect));
        services.TryAddSingleton(TimeProvider.System);

        NpgsqlResilienceOptions SettingsOf(IServiceProvider sp) => sp.GetRequiredService<IOptionsMonitor<NpgsqlResilienceOptions>>().Get(optionsName);
        T Get<T>(IServiceProvider sp)
            where T : notnull => key is null ? sp.GetRequiredService<T>() : sp.GetRequiredKeyedService<T>(key);

        Add(services, key, sp => CreateDataSource(sp, SettingsOf(sp), connectionString));
        Add(services, key, sp => CreateResilientDataSource(sp, SettingsOf(sp), Get<NpgsqlDataSource>(sp)));
        Add(services, key, sp =>
        {
            var settings = SettingsOf(sp);
            return new NpgsqlPoolProbe(settings.Name, connectionString, settings.PoolHealth.PingTimeout, Get<ResilientDataSource>(sp), ClockOf(sp, settings));
        });
        Add<IPoolProbe>(services, key, sp => Get<NpgsqlPoolProbe>(sp));
        Add(services, key, sp =>
        {
            var settings = SettingsOf(sp);
            var logger = sp.GetService<ILoggerFactory>()?.CreateLogger<PoolHealthMonitor>();
            var thresholds = PoolHealthThresholds.ForPool(settings.PoolHealth, connectionString);
            return new PoolHealthMonitor(Get<IPoolProbe>(sp), thresholds, ClockOf(sp, settings), logger, settings.Name, sp.GetService<IMeterFactory>());
        });
        services.AddSingleton<IHostedService>(sp => new PoolHealthMonitorHostedService(Get<PoolHealthMonitor>(sp)));
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            key is null ? "postgres-pool" : "postgres-pool-" + key,
            sp => new PoolHealthCheck(Get<PoolHealthMonitor>(sp)),
            failureStatus: null,
            HealthCheckTags));
    }

    private static void Add<T>(IServiceCollection services, string? key, Func<IServiceProvider, T> factory)
        where T : class
    {
        if (key is null)
        {
            services.TryAddSingleton(factory);
        }
        else
        {
            services.AddKeyedSingleton(key, (sp, _) => factory(sp));
        }
    }

    private static NpgsqlDataSource CreateDataSource(IServiceProvider sp, NpgsqlResilienceOptions settings, string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString) { Name = settings.Name };
        if (builder.ConnectionStringBuilder.CancellationTimeout == 0)
        {
            builder.ConnectionStringBuilder.CancellationTimeout = QueryTimeoutConstants.BoundedCancellationTimeoutMilliseconds;
        }

        var loggerFactory = sp.GetService<ILoggerFactory>();
        if (settings.ApplyQueryTimeoutsToDataSource)
        {
            // The default limits travel with each physical connection, so a call under them costs no extra round trip; they
            // also limit the user's own commands on this data source, which is why it is said at start-up.
            builder.UseQueryTimeouts(settings.QueryTimeouts);
            var logger = loggerFactory?.CreateLogger("Resilience.Npgsql");
            if (logger is not null && logger.IsEnabled(LogLevel.Information))
            {
                NpgsqlLog.DataSourceLimits(logger, settings.Name, settings.QueryTimeouts.StatementTimeout, settings.QueryTimeouts.EffectiveLockTimeout);
            }
        }

        if (loggerFactory is not null && settings.DriverLogLevel != LogLevel.None)
        {
            builder.UseLoggerFactory(new MinimumLevelLoggerFactory(loggerFactory, settings.DriverLogLevel));
        }

        return builder.Build();
    }

    private static ResilientDataSource CreateResilientDataSource(IServiceProvider sp, NpgsqlResilienceOptions settings, NpgsqlDataSource dataSource)
    {
        // A registry in DI owns the breaker, so its state shows in the registry's status report and gauge.
        var clock = ClockOf(sp, settings);
        var breaker = sp.GetService<CircuitBreakerRegistry>()?.GetOrAdd(settings.Name, ResilientDataSource.CreateBreakerOptions(settings.CircuitBreaker), clock);
        var loggerFactory = sp.GetService<ILoggerFactory>();
        var resilient = new ResilientDataSource(dataSource, settings, clock, loggerFactory, breaker, sp.GetService<IMeterFactory>());
        var logger = loggerFactory?.CreateLogger("Resilience.Npgsql");
        if (logger is not null && logger.IsEnabled(LogLevel.Information))
        {
            // Described from the breaker as it runs (the adapter's adjustments and a shared breaker's settings included).
            var retry = NpgsqlStartupDescription.Retry(settings.Retry);
            var breakerDescription = NpgsqlStartupDescription.Breaker(resilient.Pipeline.CircuitBreaker!.Settings);
            NpgsqlLog.Configured(logger, settings.Name, retry, breakerDescription);
        }

        return resilient;
    }

    private static TimeProvider ClockOf(IServiceProvider sp, NpgsqlResilienceOptions settings) => settings.TimeProvider ?? sp.GetRequiredService<TimeProvider>();
}
