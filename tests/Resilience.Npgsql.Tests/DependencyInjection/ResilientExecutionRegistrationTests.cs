using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Retry;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.DependencyInjection;

[Collection(PostgresTests.Name)]
public sealed class ResilientExecutionRegistrationTests(PostgresFixture postgres)
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public async Task AddNpgsqlResilience_RetryAndBreakerFromConfiguration_BreakerInRegistry()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddResilience().AddCircuitBreaker("llm");
        services.AddNpgsqlResilience(postgres.ConnectionString, Config(
            ("Name", "orders-db"),
            ("TotalTimeout", "00:00:20"),
            ("QueryTimeouts:StatementTimeout", "00:00:03"),
            ("Retry:MaxRetries", "5"),
            ("Retry:BaseDelay", "00:00:00.250"),
            ("Retry:MaxDelay", "00:00:04"),
            ("CircuitBreaker:Mode", "ConsecutiveFailures"),
            ("CircuitBreaker:FailureThreshold", "7"),
            ("CircuitBreaker:BreakDuration", "00:00:45")));
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        var options = provider.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value;
        var db = provider.GetRequiredService<ResilientDataSource>();
        var registry = provider.GetRequiredService<CircuitBreakerRegistry>();
        var one = await db.ExecuteAsync(static async (command, _, ct) =>
        {
            command.CommandText = "SELECT 1";
            return (int)(await command.ExecuteScalarAsync(ct))!;
        }, 0);

        Assert.Equal(1, one);
        Assert.Equal(TimeSpan.FromSeconds(20), options.TotalTimeout);
        Assert.Equal(5, options.Retry.MaxRetries);
        Assert.True(options.Retry.WaitOutShortBreaks);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.Retry.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(4), options.Retry.MaxDelay);
        Assert.Equal(7, options.CircuitBreaker.FailureThreshold);
        Assert.True(registry.TryGet("orders-db", out var breaker));
        Assert.Same(breaker, db.Pipeline.CircuitBreaker);
        Assert.Equal(TimeSpan.FromSeconds(45), breaker.GetSnapshot().BreakDuration);
        Assert.Contains(registry.GetStatusReport(), s => s.Name == "orders-db");
        Assert.Equal(1L, db.Pipeline.RetryStatistics!.GetSnapshot().FirstTrySuccesses);
    }

    [Fact]
    public async Task AddNpgsqlResilience_InvalidRetryAndBreaker_FailsAtStartNamingEachKey()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddNpgsqlResilience(postgres.ConnectionString, Config(
            ("TotalTimeout", "00:00:00"),
            ("Retry:MaxRetries", "-1"),
            ("Retry:BaseDelay", "00:00:10"),
            ("Retry:MaxDelay", "00:00:01"),
            ("CircuitBreaker:FailureThreshold", "0")));
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(provider.GetRequiredService<IStartupValidator>().Validate);

        Assert.Contains(error.Failures, f => f.StartsWith("TotalTimeout: must be between", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Retry:", StringComparison.Ordinal) && f.Contains("MaxRetries", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("Retry:", StringComparison.Ordinal) && f.Contains("must not exceed MaxDelay", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("CircuitBreaker", StringComparison.Ordinal) && f.Contains("FailureThreshold", StringComparison.Ordinal));
        Assert.DoesNotContain(error.Failures, f => f.Contains("CircuitBreakers:", StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_InvalidOptions_ThrowsListingEveryRule()
    {
        using var pool = global::Npgsql.NpgsqlDataSource.Create(postgres.ConnectionString);
        var options = new NpgsqlResilienceOptions { TotalTimeout = TimeSpan.FromHours(2) };
        options.Retry.MaxRetries = 1000;
        options.QueryTimeouts.StatementTimeout = TimeSpan.Zero;

        var error = Assert.Throws<OptionsValidationException>(() => new ResilientDataSource(pool, options));

        Assert.Equal(3, error.Failures.Count());
    }

    [Fact]
    public void Defaults_PatientRetryAndRatioBreakerWithShortBreak()
    {
        var options = new NpgsqlResilienceOptions();
        var preset = RetryPresets.Database;

        Assert.Equal(5, options.Retry.MaxRetries);
        Assert.True(options.Retry.WaitOutShortBreaks);
        Assert.Equal(preset.BaseDelay, options.Retry.BaseDelay);
        Assert.Equal(preset.MaxDelay, options.Retry.MaxDelay);
        Assert.Equal(CircuitBreakerMode.FailureRatio, options.CircuitBreaker.Mode);
        Assert.Equal(0.5, options.CircuitBreaker.FailureRatio);
        Assert.Equal(TimeSpan.FromSeconds(5), options.CircuitBreaker.SamplingDuration);
        Assert.Equal(20, options.CircuitBreaker.MinimumThroughput);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.CircuitBreaker.BreakDuration);
        Assert.Equal(1.5, options.CircuitBreaker.BreakDurationFactor);
        Assert.Equal(TimeSpan.FromSeconds(5), options.CircuitBreaker.MaxBreakDuration);
        Assert.Null(options.TotalTimeout);
    }

    [Fact]
    public async Task AddNpgsqlResilience_SeedBreakerFromConfiguration_FiveConsecutiveFailuresSixtySeconds()
    {
        var services = new ServiceCollection();
        services.AddNpgsqlResilience(postgres.ConnectionString, Config(
            ("CircuitBreaker:Mode", "ConsecutiveFailures"),
            ("CircuitBreaker:FailureThreshold", "5"),
            ("CircuitBreaker:BreakDuration", "00:01:00")));
        await using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value;

        Assert.Equal(CircuitBreakerMode.ConsecutiveFailures, options.CircuitBreaker.Mode);
        Assert.Equal(5, options.CircuitBreaker.FailureThreshold);
        Assert.Equal(TimeSpan.FromSeconds(60), options.CircuitBreaker.BreakDuration);
    }

    [Fact]
    public async Task AddNpgsqlResilience_ApplicationLogsAtTrace_NpgsqlChatterNotPassedOn()
    {
        var logs = new CapturingLogger();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddNpgsqlResilience(postgres.ConnectionString, configure: o => o.Name = "quiet-" + Guid.NewGuid().ToString("N")[..8]);
        await using var provider = services.BuildServiceProvider();
        var db = provider.GetRequiredService<ResilientDataSource>();

        for (var i = 0; i < 20; i++)
        {
            await db.ExecuteAsync(static async (command, _, ct) =>
            {
                command.CommandText = "SELECT 1";
                return await command.ExecuteScalarAsync(ct);
            }, 0, DbCallOptions.Idempotent);
        }

        // The adapter's own start-up description is Information by design; Npgsql's chatter is what must not pass.
        Assert.DoesNotContain(logs.Entries, e => e.Level < LogLevel.Warning && e.EventId.Id is not (NpgsqlResilienceEventIds.Configured or NpgsqlResilienceEventIds.DataSourceLimits));
    }
}
