using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Resilience.Cluster;
using Resilience.Npgsql.Cluster;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers this instance as a member of a cluster coordinated through PostgreSQL.</summary>
public static class NpgsqlClusterServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="ClusterCoordinator"/> over a <see cref="PostgresClusterStore"/>, started and stopped with the host;
    /// breakers marked <c>ClusterWide</c> in the container's <c>CircuitBreakerRegistry</c> are shared through it.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="connectionString">The database every instance shares (a pool of at most 3 connections is opened for coordination).</param>
    /// <param name="configure">Adjusts the <see cref="ClusterOptions"/>; optional.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddNpgsqlCluster(this IServiceCollection services, string connectionString, Action<ClusterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        services.TryAddSingleton(sp =>
        {
            var options = new ClusterOptions();
            configure?.Invoke(options);
            return new ClusterCoordinator(
                new PostgresClusterStore(connectionString),
                options,
                sp.GetService<TimeProvider>(),
                sp.GetService<ILoggerFactory>()?.CreateLogger("Resilience.Cluster"),
                sp.GetService<IMeterFactory>());
        });
        services.AddHostedService<ClusterCoordinatorHostedService>();
        return services;
    }

    /// <summary>Starts the coordinator's loop with the host, and leaves the cluster (quota returned, votes withdrawn) when it stops.</summary>
    private sealed class ClusterCoordinatorHostedService(ClusterCoordinator coordinator) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            coordinator.Start();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => coordinator.DisposeAsync().AsTask();
    }
}
