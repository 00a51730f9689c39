using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Resilience.Health;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.DependencyInjection;

/// <summary>Several databases side by side: each name its own data source, breaker, monitor and health check.</summary>
[Collection(PostgresTests.Name)]
public sealed class KeyedRegistrationTests(PostgresFixture postgres)
{
    private static ValueTask<string> ApplicationNameAsync(NpgsqlCommand command, int _, CancellationToken ct) =>
        new(ReadAsync(command, ct));

    private static async Task<string> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        command.CommandText = "SELECT current_setting('application_name')";
        return (string)(await command.ExecuteScalarAsync(ct))!;
    }

    [Fact]
    public async Task AddKeyedNpgsqlResilience_TwoDatabases_EachItsOwnConnectionStringBreakerAndHealthCheck()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddKeyedNpgsqlResilience("orders", postgres.ConnectionString + ";Application Name=orders-app");
        services.AddKeyedNpgsqlResilience("billing", postgres.ConnectionString + ";Application Name=billing-app", configure: o => o.QueryTimeouts.StatementTimeout = TimeSpan.FromSeconds(2));
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var orders = provider.GetRequiredKeyedService<ResilientDataSource>("orders");
        var billing = provider.GetRequiredKeyedService<ResilientDataSource>("billing");
        var health = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var monitors = provider.GetServices<IHostedService>().OfType<PoolHealthMonitorHostedService>().Count();

        Assert.Equal("orders-app", await orders.ExecuteAsync(ApplicationNameAsync, 0, DbCallOptions.Idempotent));
        Assert.Equal("billing-app", await billing.ExecuteAsync(ApplicationNameAsync, 0, DbCallOptions.Idempotent));
        Assert.Equal("orders", orders.Pipeline.Name);
        Assert.Equal("billing", billing.Pipeline.Name);
        Assert.NotSame(orders.Pipeline.CircuitBreaker, billing.Pipeline.CircuitBreaker);
        Assert.Equal(TimeSpan.FromSeconds(2), provider.GetRequiredService<IOptionsMonitor<NpgsqlResilienceOptions>>().Get("billing").QueryTimeouts.StatementTimeout);
        Assert.Equal("billing", provider.GetRequiredKeyedService<PoolHealthMonitor>("billing").Name);
        Assert.Contains("postgres-pool-orders", health.Entries.Keys);
        Assert.Contains("postgres-pool-billing", health.Entries.Keys);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal(2, monitors);
    }

    [Fact]
    public void AddNpgsqlResilience_Twice_FailsSayingToUseNames()
    {
        var services = new ServiceCollection();
        services.AddNpgsqlResilience(postgres.ConnectionString);

        var error = Assert.Throws<InvalidOperationException>(() => services.AddNpgsqlResilience(postgres.ConnectionString + ";Application Name=second"));

        Assert.Contains("AddKeyedNpgsqlResilience", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddKeyedNpgsqlResilience_SameNameTwice_Fails()
    {
        var services = new ServiceCollection();
        services.AddKeyedNpgsqlResilience("orders", postgres.ConnectionString);

        Assert.Throws<InvalidOperationException>(() => services.AddKeyedNpgsqlResilience("orders", postgres.ConnectionString));
    }
}
