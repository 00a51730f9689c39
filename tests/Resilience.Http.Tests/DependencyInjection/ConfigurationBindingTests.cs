using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Resilience.Http.Tests.DependencyInjection;

/// <summary>
/// <c>AddResilienceHttpHandler</c> binds with Core's one binder: the same unknown-key, unparsable-value and rule messages as
/// Core and the PostgreSQL adapter, <c>{Section}:{Key}: {rule}</c> with the full path, all listed at start-up.
/// </summary>
public sealed class ConfigurationBindingTests
{
    private const string Section = "Resilience:Http:llm";

    [Fact]
    public void AddResilienceHttpHandler_UnknownNestedKey_FailsStartupWithPathAndExpectedKeys()
    {
        var error = StartUp(("RetryBudget:MaxTokenz", "3"));

        Assert.Equal(
            [Section + ":RetryBudget:MaxTokenz: unknown key; expected one of Enabled, MaxTokens, DepositPerSuccess, MinRetriesPerSecond."],
            error.Failures);
    }

    [Fact]
    public void AddResilienceHttpHandler_UnknownTopLevelKey_FailsStartupWithPathAndExpectedKeys()
    {
        var error = StartUp(("MaxRetrys", "2"));

        Assert.Equal(
            [Section + ":MaxRetrys: unknown key; expected one of TotalTimeout, AttemptTimeout, MaxRetries, BaseDelay, MaxDelay, FailureThreshold, BreakDuration, BreakerScope, MaxTrackedAuthorities, RetryUnsafeMethods, MaxBufferedContentBytes, RetryBudget, CachedFallback, Hedging, FaultInjection, ConcurrencyLimit, AdaptiveThrottling, FailureSurface."],
            error.Failures);
    }

    [Fact]
    public void AddResilienceHttpHandler_UnparsableValue_FailsStartupWithPathAndRule()
    {
        var error = StartUp(("MaxRetries", "many"));

        Assert.Equal([Section + ":MaxRetries: 'many' is not a whole number."], error.Failures);
    }

    [Fact]
    public void AddResilienceHttpHandler_RuleViolation_FailsStartupWithPathAndRule()
    {
        var error = StartUp(("MaxRetries", "101"));

        Assert.Equal([Section + ":MaxRetries: must be between 0 and 100."], error.Failures);
    }

    [Fact]
    public void AddResilienceHttpHandler_BindingErrorsAndRuleViolations_ListedTogether()
    {
        var error = StartUp(
            ("TotalTimeout", "00:00:30"),
            ("AttemptTimeout", "00:01:00"),
            ("BaseDelay", "soon"),
            ("CachedFallback:MaxEntries", "0"),
            ("FailureSurface", "Loud"));

        Assert.Equal(
            [
                Section + ":AttemptTimeout: must be at most TotalTimeout (00:00:30) (was 00:01:00).",
                Section + ":BaseDelay: 'soon' is not a duration; write it as \"hh:mm:ss\" (e.g. \"00:01:00\").",
                Section + ":CachedFallback:MaxEntries: must be between 1 and 100000.",
                Section + ":FailureSurface: 'Loud' is not one of " + string.Join(", ", Enum.GetNames<HttpFailureSurface>()) + ".",
            ],
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AddResilienceHttpHandler_OverloadSections_UnknownKeyAndRulesReportedWithPath()
    {
        var error = StartUp(
            ("ConcurrencyLimit:Enabled", "true"),
            ("ConcurrencyLimit:MaxLimit", "5"),
            ("ConcurrencyLimit:Options:MaxLimitz", "5"),
            ("ConcurrencyLimit:Options:MinLimit", "0"),
            ("AdaptiveThrottling:Options:Multiplier", "0.5"));

        Assert.Equal(
            [
                Section + ":AdaptiveThrottling:Options:Multiplier: must be between 1 and 100 (was 0.5).",
                Section + ":ConcurrencyLimit:MaxLimit: unknown key; expected one of Enabled, Options.",
                Section + ":ConcurrencyLimit:Options:MaxLimitz: unknown key; expected one of InitialLimit, MinLimit, MaxLimit, QueueLimit, MaxQueueWait, Tolerance, Smoothing, SampleWindow, BaselineInterval, SheddableShare, PerAttempt.",
                Section + ":ConcurrencyLimit:Options:MinLimit: must be at least 1 (was 0).",
            ],
            error.Failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AddResilienceHttpHandler_OverloadSections_BoundIntoTheOptions()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                [Section + ":ConcurrencyLimit:Enabled"] = "true",
                [Section + ":ConcurrencyLimit:Options:MaxLimit"] = "64",
                [Section + ":ConcurrencyLimit:Options:MaxQueueWait"] = "00:00:00.100",
                [Section + ":AdaptiveThrottling:Enabled"] = "true",
                [Section + ":AdaptiveThrottling:Options:Window"] = "00:00:10",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddHttpClient("llm").AddResilienceHttpHandler(configuration.GetSection(Section));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get("llm");

        Assert.True(options.ConcurrencyLimit.Enabled);
        Assert.Equal(64, options.ConcurrencyLimit.Options.MaxLimit);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.ConcurrencyLimit.Options.MaxQueueWait);
        Assert.True(options.AdaptiveThrottling.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(10), options.AdaptiveThrottling.Options.Window);
    }

    [Fact]
    public void AddResilienceHttpHandler_OverloadSections_EveryCoreKeyBindsThroughCoresSchema()
    {
        // Keys the Http options never listed themselves: Core's schema binds them, so a key Core adds needs no Http edit.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                [Section + ":ConcurrencyLimit:Options:PerAttempt"] = "true",
                [Section + ":ConcurrencyLimit:Options:SampleWindow"] = "00:00:00.250",
                [Section + ":AdaptiveThrottling:Options:MinimumThroughput"] = "3",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddHttpClient("llm").AddResilienceHttpHandler(configuration.GetSection(Section));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get("llm");

        Assert.True(options.ConcurrencyLimit.Options.PerAttempt);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.ConcurrencyLimit.Options.SampleWindow);
        Assert.Equal(3, options.AdaptiveThrottling.Options.MinimumThroughput);
    }

    private static OptionsValidationException StartUp(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(Section + ":" + v.Key, v.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddHttpClient("llm").AddResilienceHttpHandler(configuration.GetSection(Section));
        using var provider = services.BuildServiceProvider();
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
    }
}
