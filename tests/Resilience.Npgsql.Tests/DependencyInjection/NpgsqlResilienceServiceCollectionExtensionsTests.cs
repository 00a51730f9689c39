using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Health;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.DependencyInjection;

[Collection(PostgresTests.Name)]
public sealed class NpgsqlResilienceServiceCollectionExtensionsTests(PostgresFixture postgres)
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public async Task AddNpgsqlResilience_BindsOptionsAndReportsHealthy()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddNpgsqlResilience(postgres.ConnectionString, Config(
            ("Name", "di-pool"),
            ("QueryTimeouts:StatementTimeout", "00:00:02"),
            ("PoolHealth:CheckInterval", "00:00:30"),
            ("PoolHealth:CriticalAfterPingFailures", "4")));
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value;
        var monitor = provider.GetRequiredService<PoolHealthMonitor>();
        var health = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var resilient = provider.GetRequiredService<ResilientDataSource>();
        var one = await resilient.ExecuteAsync(static async (command, ct) =>
        {
            command.CommandText = "SELECT current_setting('statement_timeout')";
            return (string)(await command.ExecuteScalarAsync(ct))!;
        }, CancellationToken.None);

        Assert.Equal("di-pool", options.Name);
        Assert.Equal(TimeSpan.FromSeconds(2), options.QueryTimeouts.StatementTimeout);
        Assert.Equal(4, options.PoolHealth.CriticalAfterPingFailures);
        Assert.Equal("di-pool", monitor.Name);
        Assert.Equal(HealthStatus.Healthy, health.Entries["postgres-pool"].Status);
        Assert.Equal("2s", one);
        Assert.Single(provider.GetServices<IHostedService>(), s => s is PoolHealthMonitorHostedService);
        Assert.Same(provider.GetRequiredService<NpgsqlPoolProbe>(), provider.GetRequiredService<IPoolProbe>());
    }

    [Fact]
    public async Task AddNpgsqlResilience_WithMeterFactory_ReportsOnTheContainersMeterOnly()
    {
        const string name = "meter-factory-pool";
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddNpgsqlResilience(postgres.ConnectionString, Config(("Name", name)));
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IMeterFactory>();
        using var container = new MeterRecorder(meter => ReferenceEquals(meter.Scope, factory));
        using var elsewhere = new MeterRecorder(meter => !ReferenceEquals(meter.Scope, factory));
        var resilient = provider.GetRequiredService<ResilientDataSource>();

        var one = await resilient.ExecuteAsync(static async (command, ct) =>
        {
            command.CommandText = "SELECT 1";
            return (int)(await command.ExecuteScalarAsync(ct))!;
        }, CancellationToken.None);
        await provider.GetRequiredService<PoolHealthMonitor>().CheckNowAsync();
        container.RecordObservableInstruments();
        elsewhere.RecordObservableInstruments();

        Assert.Equal(1, one);
        Assert.Contains(container.Of("resilience.retry.calls", name), m => Equals(m.Tags["resilience.retry.result"], "first_try_success"));
        Assert.Contains(container.Of("resilience.circuit_breaker.state", name), m => m.Value == (int)CircuitState.Closed);
        Assert.Contains(container.Of("resilience.pool.health.status", name), m => m.Value == (int)PoolHealthStatus.Healthy);
        Assert.Empty(elsewhere.Named(name));
    }

    [Fact]
    public async Task AddNpgsqlResilience_InvalidOptions_FailsAtStartWithKeys()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddNpgsqlResilience(postgres.ConnectionString, Config(
            ("QueryTimeouts:StatementTimeout", "00:00:00"),
            ("PoolHealth:CriticalAfterPingFailures", "0")));
        await using var provider = services.BuildServiceProvider();

        var validator = provider.GetRequiredService<IStartupValidator>();
        var error = Assert.Throws<OptionsValidationException>(validator.Validate);

        Assert.Contains(error.Failures, f => f.StartsWith("QueryTimeouts:StatementTimeout: must be between", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("PoolHealth:CriticalAfterPingFailures: must be between", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddNpgsqlResilience_UnparsableTotalTimeout_FailsAtStartNamingKey()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddNpgsqlResilience(postgres.ConnectionString, Config(("TotalTimeout", "thirty seconds")));
        await using var provider = services.BuildServiceProvider();

        var validator = provider.GetRequiredService<IStartupValidator>();
        var error = Assert.Throws<OptionsValidationException>(validator.Validate);

        Assert.Contains(error.Failures, f => f.Contains("TotalTimeout: 'thirty seconds' is not a duration", StringComparison.Ordinal));
    }
}
