using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.DependencyInjection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the resilience library in a service collection.</summary>
public static class ResilienceServiceCollectionExtensions
{
    /// <summary>Starts registering resilience strategies (circuit breakers, fallbacks, pipelines, ...).</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder for the strategies; calling this more than once is harmless.</returns>
    public static ResilienceBuilder AddResilience(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();

        // One registry per container: every named breaker, pipeline breaker and adapter breaker reports through it.
        services.TryAddSingleton(static sp =>
        {
            var monitor = sp.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>();
            var registry = new CircuitBreakerRegistry(monitor.Get, sp.GetService<TimeProvider>(), sp.GetService<ILoggerFactory>(), sp.GetService<IMeterFactory>());
            registry.Cluster = sp.GetService<Resilience.Cluster.ClusterCoordinator>();
            registry.FollowOptions(monitor);
            foreach (var registered in sp.GetServices<RegisteredCircuitBreaker>())
            {
                registry.GetOrAdd(registered.Name);
            }

            return registry;
        });
        return new ResilienceBuilder(services);
    }
}
