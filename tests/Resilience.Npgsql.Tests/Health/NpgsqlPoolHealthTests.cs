using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Resilience.Health;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Health;

[Collection(PostgresTests.Name)]
public sealed class NpgsqlPoolHealthTests(PostgresFixture postgres)
{
    private static NpgsqlDataSource CreatePool(string connectionString, string name, int maxSize = 3)
    {
        var builder = new NpgsqlDataSourceBuilder($"{connectionString};Maximum Pool Size={maxSize};Timeout=1") { Name = name };
        return builder.Build();
    }

    private static PoolHealthOptions Options() => new()
    {
        WaitersSustainedFor = TimeSpan.Zero,
        PingTimeout = TimeSpan.FromSeconds(3),
        SlowPingThreshold = TimeSpan.FromSeconds(2),
        AcquireTimeoutWindow = TimeSpan.FromMinutes(1),
        CriticalAfterPingFailures = 3,
    };

    [Fact]
    public async Task Monitor_RealPool_HealthyDegradedCriticalHealthy()
    {
        var name = "health-" + Guid.NewGuid().ToString("N")[..8];
        await using var pool = CreatePool(postgres.ConnectionString, name);
        var resilient = new ResilientDataSource(pool);
        using var probe = new NpgsqlPoolProbe(name, postgres.ConnectionString, TimeSpan.FromSeconds(3), resilient);
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var monitor = new PoolHealthMonitor(probe, Options(), time, name: name);
        await using (await pool.OpenConnectionAsync())
        {
            // One connection opened and returned: idle.
        }

        var idle = await monitor.CheckNowAsync();
        Assert.Equal(PoolHealthStatus.Healthy, idle.Status);
        Assert.Equal(3, idle.Snapshot.MaxSize);
        Assert.Equal(1, idle.Snapshot.Idle);
        Assert.Equal(0, idle.Snapshot.Busy);
        Assert.NotNull(idle.PingDuration);

        var held = new List<NpgsqlConnection>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await pool.OpenConnectionAsync());
        }

        var fullNoWaiters = await monitor.CheckNowAsync();
        Assert.Equal(PoolHealthStatus.Healthy, fullNoWaiters.Status);
        Assert.Equal(1d, fullNoWaiters.Utilization);

        // A waiter: blocked until its Timeout=1 expires, and counted while it waits.
        var waiter = Task.Run(async () => await pool.OpenConnectionAsync());
        PoolHealthReport waiting;
        var attempts = 0;
        do
        {
            waiting = await monitor.CheckNowAsync();
        }
        while (waiting.Snapshot.Waiters == 0 && !waiter.IsCompleted && ++attempts < 100);

        Assert.Equal(PoolHealthStatus.Degraded, waiting.Status);
        Assert.Equal(1, waiting.Snapshot.Waiters);

        var exhausted = await Assert.ThrowsAsync<NpgsqlException>(() => waiter);
        Assert.True(PostgresFailureClassifier.IsPoolExhausted(exhausted));
        var timedOut = await monitor.CheckNowAsync();
        Assert.Equal(PoolHealthStatus.Critical, timedOut.Status);
        Assert.Equal(1, timedOut.Snapshot.AcquireTimeouts);
        Assert.Equal(0, timedOut.Snapshot.Waiters);

        foreach (var connection in held)
        {
            await connection.DisposeAsync();
        }

        time.Advance(TimeSpan.FromMinutes(1));
        var released = await monitor.CheckNowAsync();
        Assert.Equal(PoolHealthStatus.Healthy, released.Status);
        Assert.Equal(0, released.Snapshot.Busy);
        Assert.Equal(3, released.Snapshot.Idle);
    }

    [Fact]
    public async Task Monitor_ServerStoppedAndResumed_CriticalThenHealthy()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        var name = "down-" + Guid.NewGuid().ToString("N")[..8];
        await using var pool = CreatePool(server.ConnectionString, name);
        using var probe = new NpgsqlPoolProbe(name, server.ConnectionString, TimeSpan.FromSeconds(2));
        await using var monitor = new PoolHealthMonitor(probe, Options(), new FakeTimeProvider(), name: name);
        var changes = new List<PoolHealthStatus>();
        monitor.StatusChanged += (_, e) => changes.Add(e.Report.Status);

        Assert.Equal(PoolHealthStatus.Healthy, (await monitor.CheckNowAsync()).Status);
        await server.PauseAsync();
        var first = await monitor.CheckNowAsync();
        await monitor.CheckNowAsync();
        var third = await monitor.CheckNowAsync();
        await server.ResumeAsync();
        var resumed = await monitor.CheckNowAsync();

        Assert.Equal(PoolHealthStatus.Degraded, first.Status);
        Assert.Equal(PoolHealthStatus.Critical, third.Status);
        Assert.Equal(3, third.ConsecutivePingFailures);
        Assert.Equal(PoolHealthStatus.Healthy, resumed.Status);
        Assert.Equal([PoolHealthStatus.Degraded, PoolHealthStatus.Critical, PoolHealthStatus.Healthy], changes);
    }

    [Fact]
    public async Task Probe_AcquireWaitsThroughResilientDataSource_ReportsP99()
    {
        var name = "p99-" + Guid.NewGuid().ToString("N")[..8];
        await using var pool = CreatePool(postgres.ConnectionString, name);
        var resilient = new ResilientDataSource(pool);
        using var probe = new NpgsqlPoolProbe(name, postgres.ConnectionString, TimeSpan.FromSeconds(3), resilient);
        Assert.Null(probe.GetSnapshot().P99AcquireWait);

        await resilient.ExecuteAsync(static async (command, ct) =>
        {
            command.CommandText = "SELECT 1";
            return await command.ExecuteScalarAsync(ct);
        }, CancellationToken.None);

        Assert.NotNull(probe.GetSnapshot().P99AcquireWait);
    }

    [Fact]
    public async Task Probe_OtherPoolsFigures_AreNotCounted()
    {
        var name = "mine-" + Guid.NewGuid().ToString("N")[..8];
        await using var mine = CreatePool(postgres.ConnectionString, name);
        await using var other = CreatePool(postgres.ConnectionString, "other-" + name);
        using var probe = new NpgsqlPoolProbe(name, postgres.ConnectionString, TimeSpan.FromSeconds(3));
        await using var busyElsewhere = await other.OpenConnectionAsync();

        var snapshot = probe.GetSnapshot();

        Assert.Equal(0, snapshot.Busy);
    }
}
