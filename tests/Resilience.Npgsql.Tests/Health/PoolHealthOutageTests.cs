using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Resilience.Health;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Health;

/// <summary>
/// With the registration's defaults, the health check turns within one check of a real server's pause and
/// back within one check of its return; the ping is never fooled by a connection the restart killed. Checks are driven by a
/// fake clock: each advance of one check interval runs exactly one scheduled check, whose status change is awaited.
/// </summary>
public sealed class PoolHealthOutageTests
{
    [Fact]
    public async Task HealthCheck_DefaultsServerPausedThenResumed_TurnsWithinOneCheckEachWay()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var services = new ServiceCollection().AddLogging();
        services.AddNpgsqlResilience(server.ConnectionString, configure: o => o.TimeProvider = clock);
        await using var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService<PoolHealthMonitor>();
        var health = provider.GetRequiredService<HealthCheckService>();
        var interval = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<NpgsqlResilienceOptions>>().Value.PoolHealth.CheckInterval;

        // A readiness probe's pace: a 2 s outage must not fit between two checks unseen.
        Assert.True(interval <= TimeSpan.FromSeconds(2), $"the default check interval is {interval}");

        // The first check runs at start; the health check waits for it (no report yet) and serves it.
        await monitor.StartAsync();
        Assert.Equal(HealthStatus.Healthy, await StatusAsync(health));

        await server.PauseAsync();
        var down = await CheckAfterOneIntervalAsync(monitor, clock, interval);
        Assert.NotEqual(PoolHealthStatus.Healthy, down.Status);
        Assert.NotEqual(HealthStatus.Healthy, await StatusAsync(health));

        await server.ResumeAsync();
        var up = await CheckAfterOneIntervalAsync(monitor, clock, interval);
        Assert.Equal(PoolHealthStatus.Healthy, up.Status);
        Assert.Equal(HealthStatus.Healthy, await StatusAsync(health));
        await monitor.StopAsync();
    }

    [Fact]
    public async Task Monitor_ServerRestartedBetweenChecks_NextCheckIsHealthy()
    {
        // The outage the checks never saw: the ping's kept connection died with the restart, and must not be mistaken for the server.
        await using var server = await PostgresServer.StartDedicatedAsync();
        var name = "restart-" + Guid.NewGuid().ToString("N")[..8];
        using var probe = new NpgsqlPoolProbe(name, server.ConnectionString, TimeSpan.FromSeconds(2));
        await using var monitor = new PoolHealthMonitor(probe, new PoolHealthOptions(), new FakeTimeProvider(), name: name);
        Assert.Equal(PoolHealthStatus.Healthy, (await monitor.CheckNowAsync()).Status);

        await server.PauseAsync();
        await server.ResumeAsync();
        var report = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Healthy, report.Status);
        Assert.Equal(0, report.ConsecutivePingFailures);
    }

    /// <summary>Moves the clock one interval (one scheduled check) and returns the report of that check, which must change the status.</summary>
    private static async Task<PoolHealthReport> CheckAfterOneIntervalAsync(PoolHealthMonitor monitor, FakeTimeProvider clock, TimeSpan interval)
    {
        var changed = new TaskCompletionSource<PoolHealthReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, PoolHealthStatusChangedEventArgs e) => changed.TrySetResult(e.Report);
        monitor.StatusChanged += OnChanged;
        try
        {
            clock.Advance(interval);
            return await changed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"the check one interval ({interval}) later left the status at {monitor.Status}: {monitor.Current}");
        }
        finally
        {
            monitor.StatusChanged -= OnChanged;
        }
    }

    private static async Task<HealthStatus> StatusAsync(HealthCheckService health) =>
        (await health.CheckHealthAsync(static r => r.Name == "postgres-pool")).Status;
}
