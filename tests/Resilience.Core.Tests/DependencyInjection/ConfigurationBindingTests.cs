using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Resilience.Core.Tests.DependencyInjection;

/// <summary>
/// The one binder and message format, through Core's registrations: every error is <c>{Section}:{Key}: {rule}</c> with the
/// full configuration path, and start-up lists them all in one <see cref="OptionsValidationException"/>. The adapters'
/// tests check the same shapes.
/// </summary>
public sealed class ConfigurationBindingTests
{
    private const string Section = "Resilience:Pipelines:orders-db";

    [Fact]
    public void AddPipeline_UnknownNestedKey_FailsStartupWithPathAndExpectedKeys()
    {
        var error = StartUp(("Retry:MaxAttempts", "3"));

        Assert.Equal(
            [Section + ":Retry:MaxAttempts: unknown key; expected one of MaxRetries, BaseDelay, MaxDelay, Backoff, BackoffFactor, Jitter, WaitOutShortBreaks."],
            error.Failures);
    }

    [Fact]
    public void AddPipeline_UnparsableValue_FailsStartupWithPathAndRule()
    {
        var error = StartUp(("Retry:MaxRetries", "many"));

        Assert.Equal([Section + ":Retry:MaxRetries: 'many' is not a whole number."], error.Failures);
    }

    [Fact]
    public void AddPipeline_RuleViolation_FailsStartupWithPathAndRule()
    {
        var error = StartUp(("Retry:MaxRetries", "101"));

        Assert.Equal([Section + ":Retry:MaxRetries: must be between 0 and 100."], error.Failures);
    }

    [Fact]
    public void AddPipeline_BindingErrorsAndRuleViolations_ListedTogether()
    {
        var error = StartUp(
            ("Retyr:MaxRetries", "3"),
            ("TotalTimeout", "soon"),
            ("QueueLimit", "-1"),
            ("Retry:MaxRetries", "101"),
            ("Retry:Jitter", "Sometimes"));

        Assert.Equal(
            [
                Section + ":QueueLimit: must not be negative (was -1).",
                Section + ":Retry:Jitter: 'Sometimes' is not one of None, Full, Decorrelated.",
                Section + ":Retry:MaxRetries: must be between 0 and 100.",
                Section + ":Retyr: unknown key; expected one of TotalTimeout, AttemptTimeout, ConcurrencyLimit, QueueLimit, Retry, RetryBudget, CircuitBreaker.",
                Section + ":TotalTimeout: 'soon' is not a duration; write it as \"hh:mm:ss\" (e.g. \"00:01:00\").",
            ],
            error.Failures.Order(StringComparer.Ordinal));
    }

    private static OptionsValidationException StartUp(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(Section + ":" + v.Key, v.Value)))
            .Build();
        var services = new ServiceCollection();
        services.AddResilience().AddPipeline("orders-db", configuration.GetSection(Section));
        using var provider = services.BuildServiceProvider();
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
    }
}
