using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Health;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.DependencyInjection;

/// <summary>What <c>AddNpgsqlResilience</c> runs on (its own clock) and what it says at start-up.</summary>
[Collection(PostgresTests.Name)]
public sealed class StartupAndClockTests(PostgresFixture postgres)
{
    [Fact]
    public async Task AddNpgsqlResilience_OwnTimeProvider_BreakerAndMonitorRunOnItNotTheContainers()
    {
        var containerClock = new FakeTimeProvider(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var databaseClock = new FakeTimeProvider(new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(containerClock);
        services.AddNpgsqlResilience(postgres.ConnectionString, configure: o =>
        {
            o.Name = "own-clock-db";
            o.TimeProvider = databaseClock;
        });
        await using var provider = services.BuildServiceProvider();

        var breaker = provider.GetRequiredService<ResilientDataSource>().Pipeline.CircuitBreaker!;
        breaker.Isolate();
        var report = await provider.GetRequiredService<PoolHealthMonitor>().CheckNowAsync();

        Assert.True(provider.GetRequiredService<CircuitBreakerRegistry>().TryGet("own-clock-db", out var registered));
        Assert.Same(breaker, registered); // still in the application's status report
        Assert.Equal(databaseClock.GetUtcNow(), breaker.GetSnapshot().OpenedAt);
        Assert.Equal(databaseClock.GetUtcNow(), report.CheckedAt);
    }

    [Fact]
    public async Task AddNpgsqlResilience_StartupLog_DescribesTheBreakerInItsMode()
    {
        var log = new CapturingLogger();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(log));
        services.AddNpgsqlResilience(postgres.ConnectionString, configure: o => o.Name = "described-db");
        await using var provider = services.BuildServiceProvider();

        _ = provider.GetRequiredService<ResilientDataSource>();

        var line = Assert.Single(log.Entries, e => e.EventId.Id == NpgsqlResilienceEventIds.Configured).Message;
        Assert.Contains("'described-db'", line, StringComparison.Ordinal);
        Assert.Contains("up to 5 retries", line, StringComparison.Ordinal);
        Assert.Contains("breaker opens when at least 50% of the calls in 5 s fail, once 20 calls were made in that window", line, StringComparison.Ordinal);
        Assert.Contains("breaks for 0.25 s, ×1.5 after each failed probe up to 5 s", line, StringComparison.Ordinal);
        Assert.DoesNotContain("in a row", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddNpgsqlResilience_StartupLog_ConsecutiveMode_SaysFailuresInARow()
    {
        var log = new CapturingLogger();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(log));
        services.AddNpgsqlResilience(postgres.ConnectionString, configure: o =>
        {
            o.CircuitBreaker.Mode = CircuitBreakerMode.ConsecutiveFailures;
            o.CircuitBreaker.FailureThreshold = 7;
            o.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(60);
        });
        await using var provider = services.BuildServiceProvider();

        _ = provider.GetRequiredService<ResilientDataSource>();

        var line = Assert.Single(log.Entries, e => e.EventId.Id == NpgsqlResilienceEventIds.Configured).Message;
        Assert.Contains("breaker opens after 7 failures in a row; breaks for 60 s, then 1 probe(s)", line, StringComparison.Ordinal);
        Assert.DoesNotContain("%", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddNpgsqlResilience_RegisteredDataSourceGetsLimits_SaidAtStartup()
    {
        var log = new CapturingLogger();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(log));
        services.AddNpgsqlResilience(postgres.ConnectionString, configure: o => o.Name = "loud-limits-db");
        await using var provider = services.BuildServiceProvider();

        var raw = await RawStatementTimeoutAsync(provider.GetRequiredService<NpgsqlDataSource>());

        Assert.Equal("5s", raw);
        var entry = Assert.Single(log.Entries, e => e.EventId.Id == NpgsqlResilienceEventIds.DataSourceLimits);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.Contains("registered NpgsqlDataSource starts with statement_timeout 00:00:05 and lock_timeout 00:00:02.5", entry.Message, StringComparison.Ordinal);
        Assert.Contains("ApplyQueryTimeoutsToDataSource", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddNpgsqlResilience_OptedOut_RawConnectionsUnlimitedAdapterCallsStillLimited()
    {
        var log = new CapturingLogger();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(log));
        services.AddNpgsqlResilience(postgres.ConnectionString, configure: o =>
        {
            o.Name = "opted-out-db";
            o.ApplyQueryTimeoutsToDataSource = false;
        });
        await using var provider = services.BuildServiceProvider();

        var raw = await RawStatementTimeoutAsync(provider.GetRequiredService<NpgsqlDataSource>());
        var throughAdapter = await provider.GetRequiredService<ResilientDataSource>().ExecuteAsync(static async (command, ct) =>
        {
            command.CommandText = "SELECT current_setting('statement_timeout')";
            return (string)(await command.ExecuteScalarAsync(ct))!;
        }, DbCallOptions.Idempotent, CancellationToken.None);

        Assert.Equal("0", raw);
        Assert.Equal("5s", throughAdapter);
        Assert.DoesNotContain(log.Entries, e => e.EventId.Id == NpgsqlResilienceEventIds.DataSourceLimits);
    }

    private static async Task<string> RawStatementTimeoutAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SHOW statement_timeout");
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
