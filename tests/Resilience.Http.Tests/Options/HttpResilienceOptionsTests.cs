using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Resilience.Http.Tests.Options;

public sealed class HttpResilienceOptionsTests
{
    [Fact]
    public void Standard_Defaults_MatchDocumentedPreset()
    {
        var options = HttpResilienceOptions.Standard();

        Assert.Equal(TimeSpan.FromSeconds(30), options.TotalTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout);
        Assert.Equal(3, options.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(1), options.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(15), options.MaxDelay);
        Assert.Equal(5, options.FailureThreshold);
        Assert.Equal(TimeSpan.FromSeconds(30), options.BreakDuration);
        Assert.Equal(HttpCircuitBreakerScope.PerAuthority, options.BreakerScope);
        Assert.Equal(64, options.MaxTrackedAuthorities);
        Assert.False(options.RetryUnsafeMethods);
        Assert.Equal(1024 * 1024, options.MaxBufferedContentBytes);
        Assert.False(options.CachedFallback.Enabled);
        Assert.Equal(256, options.CachedFallback.MaxEntries);
        Assert.Equal(256 * 1024, options.CachedFallback.MaxBodyBytes);
        Assert.Equal(TimeSpan.FromMinutes(5), options.CachedFallback.MaxStaleness);
        Assert.Equal(HttpFailureSurface.Response503, options.FailureSurface);
        Assert.Null(options.ShouldHandleOutcome);
        Assert.True(HttpResilienceOptionsValidator.Instance.Validate("llm", options).Succeeded);
    }

    [Fact]
    public void Validate_OutOfRangeValues_EveryErrorNamesKeyAndRule()
    {
        var options = new HttpResilienceOptions
        {
            MaxRetries = -1,
            TotalTimeout = TimeSpan.Zero,
            FailureThreshold = 0,
            MaxBufferedContentBytes = -5,
        };
        options.CachedFallback.MaxEntries = 0;

        var result = HttpResilienceOptionsValidator.Instance.Validate("llm", options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.Contains("MaxRetries", StringComparison.Ordinal) && f.Contains("between 0 and 100", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("TotalTimeout", StringComparison.Ordinal) && f.Contains("between 00:00:00.0010000 and 1.00:00:00", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("FailureThreshold", StringComparison.Ordinal) && f.Contains("between 1 and 10000", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("MaxBufferedContentBytes", StringComparison.Ordinal) && f.Contains("between 0 and", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("CachedFallback", StringComparison.Ordinal) && f.Contains("MaxEntries", StringComparison.Ordinal) && f.Contains("between 1 and 100000", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_OnlyTotalTimeout10s_ValidAndDependentDefaultsDerived()
    {
        var options = new HttpResilienceOptions { TotalTimeout = TimeSpan.FromSeconds(10) };

        Assert.True(HttpResilienceOptionsValidator.Instance.Validate("llm", options).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.MaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(1), options.BaseDelay);
    }

    [Fact]
    public void Validate_OnlyShortTotalTimeout_AttemptAndDelaysClampedBelowIt()
    {
        var options = new HttpResilienceOptions { TotalTimeout = TimeSpan.FromSeconds(1) };

        Assert.True(HttpResilienceOptionsValidator.Instance.Validate("llm", options).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(1), options.AttemptTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.MaxDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.BaseDelay);
    }

    [Fact]
    public void Validate_OnlyLongAttemptTimeoutOrBaseDelay_TotalAndMaxDelayFollow()
    {
        var attempt = new HttpResilienceOptions { AttemptTimeout = TimeSpan.FromSeconds(45) };
        var delay = new HttpResilienceOptions { BaseDelay = TimeSpan.FromSeconds(20) };

        Assert.True(HttpResilienceOptionsValidator.Instance.Validate("a", attempt).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(45), attempt.TotalTimeout);
        Assert.True(HttpResilienceOptionsValidator.Instance.Validate("b", delay).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(20), delay.MaxDelay);
    }

    [Fact]
    public void CreateClient_WithoutHost_OnlyTotalTimeout10s_Works()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("llm").AddResilienceHttpHandler(o => o.TotalTimeout = TimeSpan.FromSeconds(10));
        using var provider = services.BuildServiceProvider();

        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("llm");

        Assert.NotNull(client);
    }

    [Fact]
    public void Validate_AttemptTimeoutAboveTotal_CrossFieldError()
    {
        var options = new HttpResilienceOptions { AttemptTimeout = TimeSpan.FromSeconds(40), TotalTimeout = TimeSpan.FromSeconds(30) };

        var failure = Assert.Single(HttpResilienceOptionsValidator.Instance.Validate(null, options).Failures!);

        Assert.Equal("Property AttemptTimeout: AttemptTimeout (00:00:40) must be at most TotalTimeout (00:00:30).", failure);
    }

    [Fact]
    public void Validate_BaseDelayAboveMaxDelayAndMaxDelayNotBelowTotal_BothReported()
    {
        var options = new HttpResilienceOptions { BaseDelay = TimeSpan.FromSeconds(40), MaxDelay = TimeSpan.FromSeconds(30), TotalTimeout = TimeSpan.FromSeconds(30), AttemptTimeout = TimeSpan.FromSeconds(5) };

        var failures = HttpResilienceOptionsValidator.Instance.Validate(null, options).Failures!.ToList();

        Assert.Equal(2, failures.Count);
        Assert.Contains("Property BaseDelay: BaseDelay (00:00:40) must be at most MaxDelay (00:00:30).", failures);
        Assert.Contains(failures, f => f.StartsWith("Property MaxDelay: MaxDelay (00:00:30) must be less than TotalTimeout (00:00:30)", StringComparison.Ordinal));
    }

    [Fact]
    public void ThrowIfInvalid_BuiltInCode_ThrowsOptionsValidationExceptionWithName()
    {
        var options = new HttpResilienceOptions { AttemptTimeout = TimeSpan.FromMinutes(1), TotalTimeout = TimeSpan.FromSeconds(30) };

        var error = Assert.Throws<OptionsValidationException>(() => HttpResilienceOptionsValidator.ThrowIfInvalid(options, "cms"));

        Assert.Equal("cms", error.OptionsName);
        Assert.Contains("AttemptTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_FromConfiguration_ReadsEveryKey()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Http:TotalTimeout"] = "00:01:00",
            ["Http:AttemptTimeout"] = "00:00:20",
            ["Http:MaxRetries"] = "5",
            ["Http:BaseDelay"] = "00:00:00.500",
            ["Http:MaxDelay"] = "00:00:30",
            ["Http:FailureThreshold"] = "8",
            ["Http:BreakDuration"] = "00:02:00",
            ["Http:BreakerScope"] = "Shared",
            ["Http:MaxTrackedAuthorities"] = "10",
            ["Http:RetryUnsafeMethods"] = "true",
            ["Http:MaxBufferedContentBytes"] = "4096",
            ["Http:FailureSurface"] = "Exception",
            ["Http:CachedFallback:Enabled"] = "true",
            ["Http:CachedFallback:MaxEntries"] = "12",
            ["Http:CachedFallback:MaxBodyBytes"] = "2048",
            ["Http:CachedFallback:MaxStaleness"] = "00:10:00",
        }).Build();
        var options = new HttpResilienceOptions();

        configuration.GetSection("Http").Bind(options);

        Assert.Equal(TimeSpan.FromMinutes(1), options.TotalTimeout);
        Assert.Equal(TimeSpan.FromSeconds(20), options.AttemptTimeout);
        Assert.Equal(5, options.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.BaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), options.MaxDelay);
        Assert.Equal(8, options.FailureThreshold);
        Assert.Equal(TimeSpan.FromMinutes(2), options.BreakDuration);
        Assert.Equal(HttpCircuitBreakerScope.Shared, options.BreakerScope);
        Assert.Equal(10, options.MaxTrackedAuthorities);
        Assert.True(options.RetryUnsafeMethods);
        Assert.Equal(4096, options.MaxBufferedContentBytes);
        Assert.Equal(HttpFailureSurface.Exception, options.FailureSurface);
        Assert.True(options.CachedFallback.Enabled);
        Assert.Equal(12, options.CachedFallback.MaxEntries);
        Assert.Equal(2048, options.CachedFallback.MaxBodyBytes);
        Assert.Equal(TimeSpan.FromMinutes(10), options.CachedFallback.MaxStaleness);
        Assert.True(HttpResilienceOptionsValidator.Instance.Validate(null, options).Succeeded);
    }

    [Fact]
    public void OptionsMonitor_InvalidConfiguration_FailsWithKeyAndRule()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Http:MaxRetries"] = "500",
        }).Build();
        using var services = new ServiceCollection()
            .AddSingleton<IValidateOptions<HttpResilienceOptions>>(HttpResilienceOptionsValidator.Instance)
            .Configure<HttpResilienceOptions>("llm", configuration.GetSection("Http"))
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get("llm"));

        Assert.Equal("llm", error.OptionsName);
        Assert.Contains(error.Failures, f => f.Contains("MaxRetries", StringComparison.Ordinal) && f.Contains("between 0 and 100", StringComparison.Ordinal));
    }
}
