using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Resilience.Health;

namespace Resilience.Core.Tests.Health;

public sealed class PoolHealthCheckTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedPoolProbe _probe = new();

    private static HealthCheckContext Context(HealthStatus failureStatus = HealthStatus.Unhealthy)
    {
        var check = new DelegateHealthCheck();
        return new HealthCheckContext { Registration = new HealthCheckRegistration("pool", check, failureStatus, tags: null) };
    }

    [Fact]
    public async Task CheckHealth_BeforeFirstCheck_RunsOneAndReportsHealthyWithData()
    {
        _probe.Snapshot = new PoolSnapshot(10, 4, 6, 0, 0, TimeSpan.FromMilliseconds(12));
        await using var monitor = new PoolHealthMonitor(_probe, timeProvider: _time);

        var result = await new PoolHealthCheck(monitor).CheckHealthAsync(Context());

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal(1, _probe.PingCount);
        Assert.Equal("Healthy", result.Data["status"]);
        Assert.Equal(0.4d, result.Data["utilization"]);
        Assert.Equal(10, result.Data["maxSize"]);
        Assert.Equal(4, result.Data["busy"]);
        Assert.Equal(6, result.Data["idle"]);
        Assert.Equal(0, result.Data["waiters"]);
        Assert.Equal(12d, result.Data["p99AcquireWaitMs"]);
        Assert.Equal(5d, result.Data["pingMs"]);
    }

    [Fact]
    public async Task CheckHealth_AfterACheck_ReturnsLatestReportWithoutPinging()
    {
        await using var monitor = new PoolHealthMonitor(_probe, timeProvider: _time);
        _probe.PingFails();
        await monitor.CheckNowAsync();

        var result = await new PoolHealthCheck(monitor).CheckHealthAsync(Context());

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Equal(1, _probe.PingCount);
        Assert.Equal(monitor.Current!.Reason, result.Description);
    }

    [Theory]
    [InlineData(HealthStatus.Unhealthy)]
    [InlineData(HealthStatus.Degraded)]
    public async Task CheckHealth_Critical_UsesRegistrationFailureStatus(HealthStatus failureStatus)
    {
        await using var monitor = new PoolHealthMonitor(_probe, new PoolHealthOptions { CriticalAfterPingFailures = 1 }, _time);
        _probe.PingFails();
        await monitor.CheckNowAsync();

        var result = await new PoolHealthCheck(monitor).CheckHealthAsync(Context(failureStatus));

        Assert.Equal(failureStatus, result.Status);
        Assert.Equal("Critical", result.Data["status"]);
        Assert.Equal(1, result.Data["consecutivePingFailures"]);
        Assert.False(result.Data.ContainsKey("pingMs"));
    }

    private sealed class DelegateHealthCheck : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Healthy());
    }

    [Fact]
    public async Task CheckHealth_ReportOlderThanMaxReportAge_ChecksNowInsteadOfServingStaleHealthy()
    {
        await using var monitor = new PoolHealthMonitor(_probe, new PoolHealthOptions { CheckInterval = TimeSpan.FromSeconds(60) }, _time);
        await monitor.CheckNowAsync();
        _probe.Snapshot = new PoolSnapshot(3, 3, 0, waiters: 4, acquireTimeouts: 2);
        _time.Advance(TimeSpan.FromSeconds(6));

        var result = await new PoolHealthCheck(monitor).CheckHealthAsync(Context());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal(2, _probe.PingCount);
    }
}
