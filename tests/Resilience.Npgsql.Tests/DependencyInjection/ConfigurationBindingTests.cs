using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Resilience.Npgsql.Tests.DependencyInjection;

/// <summary>
/// <c>AddNpgsqlResilience</c> binds with Core's one binder: the same unknown-key, unparsable-value and rule messages as
/// Core and the HTTP adapter, <c>{Section}:{Key}: {rule}</c> with the full path, all listed at start-up.
/// </summary>
/// <remarks>Nothing connects: start-up validation runs before the data source is built.</remarks>
public sealed class ConfigurationBindingTests
{
    private const string Section = "Resilience:Npgsql:orders-db";
    private const string ConnectionString = "Host=127.0.0.1;Database=unused";

    [Fact]
    public void AddNpgsqlResilience_UnknownNestedKey_FailsStartupWithPathAndExpectedKeys()
    {
        var error = StartUp(("Retry:MaxAttempts", "3"));

        Assert.Equal(
            [Section + ":Retry:MaxAttempts: unknown key; expected one of MaxRetries, BaseDelay, MaxDelay, Backoff, BackoffFactor, Jitter, WaitOutShortBreaks."],
            error.Failures);
    }

    [Fact]
    public void AddNpgsqlResilience_UnknownTopLevelKey_FailsStartupWithPathAndExpectedKeys()
    {
        var error = StartUp(("StatementTimeout", "00:00:05"));

        Assert.Equal(
            [Section + ":StatementTimeout: unknown key; expected one of Name, TotalTimeout, DriverLogLevel, ApplyQueryTimeoutsToDataSource, MaxWaitingCalls, RecoveryProbeInterval, ConcurrencyLimit, QueryTimeouts, Retry, CircuitBreaker, PoolHealth."],
            error.Failures);
    }

    [Fact]
    public void AddNpgsqlResilience_UnparsableValue_FailsStartupWithPathAndRule()
    {
        var error = StartUp(("Retry:MaxRetries", "many"));

        Assert.Equal([Section + ":Retry:MaxRetries: 'many' is not a whole number."], error.Failures);
    }

    [Fact]
    public void AddNpgsqlResilience_RuleViolation_FailsStartupWithPathAndRule()
    {
        var error = StartUp(("Retry:MaxRetries", "101"));

        Assert.Equal([Section + ":Retry:MaxRetries: must be between 0 and 100."], error.Failures);
    }

    [Fact]
    public void AddNpgsqlResilience_BindingErrorsAndRuleViolations_ListedTogether()
    {
        var error = StartUp(
            ("TotalTimeout", "thirty seconds"),
            ("QueryTimeouts:StatementTimeout", "00:00:00"),
            ("PoolHealth:CriticalAfterPingFailures", "0"),
            ("CircuitBreaker:Treshold", "3"),
            ("DriverLogLevel", "Loud"));

        Assert.Equal(
            [
                Section + ":CircuitBreaker:Treshold: unknown key; expected one of Mode, FailureThreshold, BreakDuration, FailureRatio, SamplingDuration, SamplingBuckets, MinimumThroughput, SlowCallThreshold, PermittedProbes, BreakDurationFactor, MaxBreakDuration, ProbeTimeout, ClusterWide.",
                Section + ":DriverLogLevel: 'Loud' is not one of Trace, Debug, Information, Warning, Error, Critical, None.",
                Section + ":PoolHealth:CriticalAfterPingFailures: must be between 1 and 100 (was 0).",
                Section + ":QueryTimeouts:StatementTimeout: must be between 00:00:00.0010000 and 01:00:00 (was 00:00:00).",
                Section + ":TotalTimeout: 'thirty seconds' is not a duration; write it as \"hh:mm:ss\" (e.g. \"00:01:00\").",
            ],
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AddNpgsqlResilience_FailureThresholdUnderRatioMode_FailsNamingBothKeys()
    {
        var error = StartUp(("CircuitBreaker:FailureThreshold", "3"));

        Assert.Equal(
            [Section + ":CircuitBreaker:FailureThreshold: has no effect while " + Section + ":CircuitBreaker:Mode is FailureRatio; set " + Section + ":CircuitBreaker:Mode to ConsecutiveFailures for it to apply, or remove it."],
            error.Failures);
    }

    [Fact]
    public void AddNpgsqlResilience_RatioSettingsUnderConsecutiveMode_FailNamingBothKeys()
    {
        var error = StartUp(
            ("CircuitBreaker:Mode", "ConsecutiveFailures"),
            ("CircuitBreaker:MinimumThroughput", "50"),
            ("CircuitBreaker:SamplingDuration", "00:00:30"));

        Assert.Equal(
            [
                Section + ":CircuitBreaker:MinimumThroughput: has no effect while " + Section + ":CircuitBreaker:Mode is ConsecutiveFailures; set " + Section + ":CircuitBreaker:Mode to FailureRatio for it to apply, or remove it.",
                Section + ":CircuitBreaker:SamplingDuration: has no effect while " + Section + ":CircuitBreaker:Mode is ConsecutiveFailures; set " + Section + ":CircuitBreaker:Mode to FailureRatio for it to apply, or remove it.",
            ],
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AddNpgsqlResilience_OnlyOneSecondCheckInterval_StartsWithPingLimitsDerivedFromIt()
    {
        // The 5 s default ping timeout above a 1 s interval used to fail start-up.
        using var provider = Provider(("PoolHealth:CheckInterval", "00:00:01"));

        provider.GetRequiredService<IStartupValidator>().Validate();
        var health = provider.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value.PoolHealth;
        Assert.Equal(TimeSpan.FromSeconds(1), health.CheckInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), health.PingTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(500), health.SlowPingThreshold);
    }

    [Fact]
    public void AddNpgsqlResilience_PingTimeoutSetAboveCheckIntervalSet_StillFailsNamingTheKey()
    {
        var error = StartUp(("PoolHealth:CheckInterval", "00:00:01"), ("PoolHealth:PingTimeout", "00:00:02"));

        Assert.Equal([Section + ":PoolHealth:PingTimeout: must not exceed CheckInterval (was 00:00:02 > 00:00:01)."], error.Failures);
    }

    [Fact]
    public void AddNpgsqlResilience_WaitingLimitAndRecoveryProbe_BindAndAreChecked()
    {
        using (var provider = Provider(("MaxWaitingCalls", "50"), ("RecoveryProbeInterval", "00:00:00.200")))
        {
            var options = provider.GetRequiredService<IOptions<NpgsqlResilienceOptions>>().Value;
            Assert.Equal(50, options.MaxWaitingCalls);
            Assert.Equal(TimeSpan.FromMilliseconds(200), options.RecoveryProbeInterval);
        }

        var error = StartUp(("MaxWaitingCalls", "0"), ("RecoveryProbeInterval", "-00:00:01"));
        Assert.Equal(
            [
                Section + ":MaxWaitingCalls: must be between 1 and 1000000 when set (was 0).",
                Section + ":RecoveryProbeInterval: must be between 0 (off) and 00:00:10 (was -00:00:01).",
            ],
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AddNpgsqlResilience_ConcurrencyLimit_UnknownKeyAndRulesReportedWithPath()
    {
        var error = StartUp(
            ("ConcurrencyLimit:MaxLimt", "10"),
            ("ConcurrencyLimit:MinLimit", "0"),
            ("ConcurrencyLimit:MaxQueueWait", "00:05:00"));

        Assert.Equal(
            [
                Section + ":ConcurrencyLimit:MaxLimt: unknown key; expected one of Enabled, MaxLimit, MinLimit, InitialLimit, QueueLimit, MaxQueueWait, Tolerance, SheddableShare.",
                Section + ":ConcurrencyLimit:MaxQueueWait: must be between 0 and 00:01:00 (was 00:05:00).",
                Section + ":ConcurrencyLimit:MinLimit: must be between 1 and 1000000 when set (was 0).",
            ],
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AddNpgsqlResilience_ConcurrencyLimit_MinAboveMax_ReportedByCoresRule()
    {
        var error = StartUp(("ConcurrencyLimit:MaxLimit", "10"), ("ConcurrencyLimit:MinLimit", "20"));

        Assert.Contains(error.Failures, f => f.StartsWith(Section + ":ConcurrencyLimit:MaxLimit: must be between MinLimit (20)", StringComparison.Ordinal));
    }

    private static ServiceProvider Provider(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(Section + ":" + v.Key, v.Value)))
            .Build();
        var services = new ServiceCollection().AddLogging();
        services.AddNpgsqlResilience(ConnectionString, configuration.GetSection(Section));
        return services.BuildServiceProvider();
    }

    private static OptionsValidationException StartUp(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(Section + ":" + v.Key, v.Value)))
            .Build();
        var services = new ServiceCollection().AddLogging();
        services.AddNpgsqlResilience(ConnectionString, configuration.GetSection(Section));
        using var provider = services.BuildServiceProvider();
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
    }
}
