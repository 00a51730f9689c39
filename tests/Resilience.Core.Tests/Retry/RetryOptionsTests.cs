using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilience.Retry;

namespace Resilience.Core.Tests.Retry;

public sealed class RetryOptionsTests
{
    [Fact]
    public void Validate_Defaults_Succeed()
    {
        Assert.True(new RetryOptionsValidator().Validate(null, new RetryOptions()).Succeeded);
    }

    [Fact]
    public void Validate_AllErrorsListedAtOnce_NamingKeys()
    {
        var options = new RetryOptions
        {
            MaxRetries = -1,
            BaseDelay = TimeSpan.FromSeconds(5),
            MaxDelay = TimeSpan.FromSeconds(1),
            BackoffFactor = 1.0,
            Backoff = RetryBackoff.Linear,
            Jitter = RetryJitter.Decorrelated,
        };

        var result = new RetryOptionsValidator().Validate("db", options);

        Assert.True(result.Failed);
        var failures = string.Join("\n", result.Failures!);
        Assert.Contains("MaxRetries", failures, StringComparison.Ordinal);
        Assert.Contains("BackoffFactor", failures, StringComparison.Ordinal);
        Assert.Contains("BaseDelay (00:00:05) must not exceed MaxDelay (00:00:01)", failures, StringComparison.Ordinal);
        Assert.Contains("requires Backoff 'Exponential'", failures, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NegativeDelay_Fails()
    {
        var result = new RetryOptionsValidator().Validate(null, new RetryOptions { BaseDelay = TimeSpan.FromSeconds(-1) });
        Assert.Contains("BaseDelay", string.Join("\n", result.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void RetryStrategy_InvalidOptionsInCode_ThrowsOptionsValidationException()
    {
        var ex = Assert.Throws<OptionsValidationException>(
            () => new RetryOnly(new RetryOptions { Name = "api", BaseDelay = TimeSpan.FromMinutes(1), MaxDelay = TimeSpan.FromSeconds(1) }));
        Assert.Equal("api", ex.OptionsName);
        Assert.Contains("MaxDelay", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_FromConfiguration_ReadsEverySetting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Retry:MaxRetries"] = "5",
            ["Retry:BaseDelay"] = "00:00:00.250",
            ["Retry:MaxDelay"] = "00:00:04",
            ["Retry:Backoff"] = "Linear",
            ["Retry:Jitter"] = "Full",
            ["Retry:BackoffFactor"] = "1.5",
        }).Build();
        var services = new ServiceCollection();
        services.Configure<RetryOptions>(configuration.GetSection("Retry"));
        services.AddSingleton<IValidateOptions<RetryOptions>, RetryOptionsValidator>();

        var options = services.BuildServiceProvider().GetRequiredService<IOptions<RetryOptions>>().Value;

        Assert.Equal(5, options.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(4), options.MaxDelay);
        Assert.Equal(RetryBackoff.Linear, options.Backoff);
        Assert.Equal(RetryJitter.Full, options.Jitter);
        Assert.Equal(1.5, options.BackoffFactor);
    }

    [Fact]
    public void Bind_InvalidConfiguration_FailsWithKeyAndRule()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Retry:Backoff"] = "Constant",
        }).Build();
        var services = new ServiceCollection();
        services.Configure<RetryOptions>(configuration.GetSection("Retry"));
        services.AddSingleton<IValidateOptions<RetryOptions>, RetryOptionsValidator>();

        var ex = Assert.Throws<OptionsValidationException>(
            () => services.BuildServiceProvider().GetRequiredService<IOptions<RetryOptions>>().Value);
        Assert.Contains("Jitter 'Decorrelated' requires Backoff 'Exponential'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Presets_MatchSeedConfigs_AndAreFreshInstances()
    {
        var db = RetryPresets.Database;
        Assert.Equal(3, db.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(100), db.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(2), db.MaxDelay);
        Assert.Equal(RetryBackoff.Exponential, db.Backoff);
        Assert.Equal(2.0, db.BackoffFactor);
        Assert.Equal(RetryJitter.Decorrelated, db.Jitter);

        var api = RetryPresets.HttpApi;
        Assert.Equal(3, api.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(500), api.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), api.MaxDelay);
        Assert.Equal(RetryBackoff.Exponential, api.Backoff);
        Assert.Equal(RetryJitter.Decorrelated, api.Jitter);

        db.MaxRetries = 9;
        Assert.Equal(3, RetryPresets.Database.MaxRetries);
        Assert.True(new RetryOptionsValidator().Validate(null, RetryPresets.Database).Succeeded);
        Assert.True(new RetryOptionsValidator().Validate(null, RetryPresets.HttpApi).Succeeded);
    }

    [Fact]
    public void TypedCopyConstructor_CopiesPresetSettings()
    {
        var typed = new RetryOptions<int>(RetryPresets.HttpApi) { ShouldHandleOutcome = static o => o.HasException };
        Assert.Equal("http-api", typed.Name);
        Assert.Equal(TimeSpan.FromSeconds(10), typed.MaxDelay);
        Assert.NotNull(new RetryOptions<int>(typed).ShouldHandleOutcome);
    }
}
