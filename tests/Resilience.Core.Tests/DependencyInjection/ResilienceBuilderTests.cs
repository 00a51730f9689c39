using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Fallback;

namespace Resilience.Core.Tests.DependencyInjection;

public sealed class ResilienceBuilderTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void AddCircuitBreakers_FromConfiguration_BindsPerServiceOptions()
    {
        var config = Config(
            ("Resilience:CircuitBreakers:orders:FailureThreshold", "2"),
            ("Resilience:CircuitBreakers:orders:BreakDuration", "00:00:30"),
            ("Resilience:CircuitBreakers:search:Mode", "FailureRatio"),
            ("Resilience:CircuitBreakers:search:FailureRatio", "0.25"),
            ("Resilience:CircuitBreakers:search:SlowCallThreshold", "00:00:02"));
        var time = new FakeTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time);
        services.AddResilience().AddCircuitBreakers(config);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var monitor = provider.GetRequiredService<IOptionsMonitor<CircuitBreakerOptions>>();
        Assert.Equal(2, monitor.Get("orders").FailureThreshold);
        Assert.Equal(TimeSpan.FromSeconds(30), monitor.Get("orders").BreakDuration);
        Assert.Equal(CircuitBreakerMode.FailureRatio, monitor.Get("search").Mode);
        Assert.Equal(0.25, monitor.Get("search").FailureRatio);
        Assert.Equal(TimeSpan.FromSeconds(2), monitor.Get("search").SlowCallThreshold);

        var registry = provider.GetRequiredService<CircuitBreakerRegistry>();
        Assert.Equal(["orders", "search"], registry.GetStatusReport().Select(s => s.Name));
        var orders = provider.GetRequiredKeyedService<global::Resilience.CircuitBreaking.CircuitBreaker>("orders");
        Assert.Same(registry.GetOrAdd("orders"), orders);
        for (var i = 0; i < 2; i++)
        {
            Assert.True(orders.TryAcquire(out var p));
            p.Failed();
        }

        Assert.False(orders.TryAcquire(out var refused));
        Assert.Equal(TimeSpan.FromSeconds(30), refused.RemainingBreak);
    }

    [Fact]
    public void AddCircuitBreaker_InvalidRange_StartupValidationNamesKeyAndRule()
    {
        var config = Config(("Resilience:CircuitBreakers:orders:FailureRatio", "1.5"), ("Resilience:CircuitBreakers:orders:PermittedProbes", "0"));
        var services = new ServiceCollection();
        services.AddResilience().AddCircuitBreaker("orders", config.GetSection("Resilience:CircuitBreakers:orders"));
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Resilience:CircuitBreakers:orders", e.Message, StringComparison.Ordinal);
        Assert.Contains("FailureRatio", e.Message, StringComparison.Ordinal);
        Assert.Contains("between", e.Message, StringComparison.Ordinal);
        Assert.Contains("PermittedProbes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddCircuitBreaker_CrossFieldRule_StartupValidationNamesKeyAndRule()
    {
        var services = new ServiceCollection();
        services.AddResilience().AddCircuitBreaker("orders", o =>
        {
            o.BreakDurationFactor = 2;
            o.MaxBreakDuration = TimeSpan.FromSeconds(1);
        });
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Resilience:CircuitBreakers:orders:MaxBreakDuration: must be at least BreakDuration", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddCircuitBreaker_UnparsableOrUnknownKey_StartupValidationNamesKey()
    {
        var config = Config(("Resilience:CircuitBreakers:orders:BreakDuration", "soon"), ("Resilience:CircuitBreakers:orders:Treshold", "3"));
        var services = new ServiceCollection();
        services.AddResilience().AddCircuitBreakers(config);
        using var provider = services.BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Resilience:CircuitBreakers:orders:BreakDuration: 'soon' is not a duration", e.Message, StringComparison.Ordinal);
        Assert.Contains("Resilience:CircuitBreakers:orders:Treshold: unknown key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddCachedFallback_RegistersKeyedInstanceWithOptions()
    {
        var config = Config(("Fallbacks:prices:MaxEntries", "10"), ("Fallbacks:prices:MaxStaleness", "00:01:00"));
        var time = new FakeTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time);
        services.AddResilience()
            .AddCachedFallback<string, decimal>("prices", config.GetSection("Fallbacks:prices"))
            .AddCachedFallback<string, decimal>("rates", o => o.MaxEntries = 5, static _ => 1m);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var prices = provider.GetRequiredKeyedService<CachedFallback<string, decimal>>("prices");
        prices.Store("eur", 1.1m);
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.False(prices.TryGetFallback("eur", out _));

        var rates = provider.GetRequiredKeyedService<CachedFallback<string, decimal>>("rates");
        var value = await rates.ExecuteAsync("x", static _ => ValueTask.FromException<decimal>(new TimeoutException()), CancellationToken.None);
        Assert.Equal(FallbackSource.Static, value.Source);
    }

    [Fact]
    public void AddCachedFallback_InvalidOptions_StartupValidationFails()
    {
        var services = new ServiceCollection();
        services.AddResilience().AddCachedFallback<string, string>("prices", o => o.MaxEntries = 0);
        using var provider = services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("MaxEntries", e.Message, StringComparison.Ordinal);
    }
}
