using Microsoft.Extensions.Hosting;
using Resilience.Health;

namespace Resilience.Npgsql;

/// <summary>Starts and stops the registered <see cref="PoolHealthMonitor"/> with the host.</summary>
internal sealed class PoolHealthMonitorHostedService(PoolHealthMonitor monitor) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => monitor.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => monitor.StopAsync(cancellationToken);
}
