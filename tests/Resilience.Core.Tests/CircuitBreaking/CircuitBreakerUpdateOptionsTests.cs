using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Telemetry;
using Resilience.Testing;

namespace Resilience.Core.Tests.CircuitBreaking;

public sealed class CircuitBreakerUpdateOptionsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private global::Resilience.CircuitBreaking.CircuitBreaker Create(int threshold, TimeSpan breakDuration) =>
        new("orders", new CircuitBreakerOptions { FailureThreshold = threshold, BreakDuration = breakDuration }, _time);

    [Fact]
    public void UpdateOptions_WhileOpen_KeepsTheBreakEnd_NextBreakUsesTheNewDuration()
    {
        var breaker = Create(2, TimeSpan.FromMinutes(1));
        CircuitBreakerTests.Fail(breaker, 2);

        breaker.UpdateOptions(new CircuitBreakerOptions { FailureThreshold = 2, BreakDuration = TimeSpan.FromMinutes(10) });

        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(breaker.TryAcquire(out var probe));
        probe.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
        CircuitBreakerTests.Fail(breaker, 2);
        Assert.Equal(TimeSpan.FromMinutes(10), breaker.GetSnapshot().BreakDuration);
    }

    [Fact]
    public void UpdateOptions_LowerThresholdWhileClosed_KeepsCountedFailures()
    {
        var breaker = Create(5, TimeSpan.FromMinutes(1));
        CircuitBreakerTests.Fail(breaker, 3);

        breaker.UpdateOptions(new CircuitBreakerOptions { FailureThreshold = 4 });

        Assert.Equal(3, breaker.GetSnapshot().Failures);
        CircuitBreakerTests.Fail(breaker, 1);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void UpdateOptions_ModeChanged_StartsAFreshCount_KeepsTheState()
    {
        var breaker = Create(5, TimeSpan.FromMinutes(1));
        CircuitBreakerTests.Fail(breaker, 3);

        breaker.UpdateOptions(new CircuitBreakerOptions { Mode = CircuitBreakerMode.FailureRatio, FailureRatio = 0.5, MinimumThroughput = 2 });

        Assert.Equal(CircuitBreakerMode.FailureRatio, breaker.Mode);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSnapshot().Failures);
        CircuitBreakerTests.Fail(breaker, 2);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void UpdateOptions_PermittedProbesChangedWhileHalfOpen_AppliesFromTheNextHalfOpenPeriod()
    {
        var breaker = Create(1, TimeSpan.FromMinutes(1));
        CircuitBreakerTests.Fail(breaker, 1);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(breaker.TryAcquire(out var probe));

        breaker.UpdateOptions(new CircuitBreakerOptions { FailureThreshold = 1, BreakDuration = TimeSpan.FromMinutes(1), PermittedProbes = 2 });

        // This period admitted its one probe; its success closes the circuit as it would have.
        Assert.False(breaker.TryAcquire(out _));
        probe.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);

        // The next period admits two, and needs both.
        CircuitBreakerTests.Fail(breaker, 1);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(breaker.TryAcquire(out var first));
        Assert.True(breaker.TryAcquire(out var second));
        first.Succeeded();
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        second.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void UpdateOptions_SlowCallThresholdSetWhileACallRuns_DoesNotCountThatCallAsSlow()
    {
        var breaker = Create(1, TimeSpan.FromMinutes(1));
        Assert.True(breaker.TryAcquire(out var permit));

        breaker.UpdateOptions(new CircuitBreakerOptions { FailureThreshold = 1, SlowCallThreshold = TimeSpan.FromSeconds(1) });
        _time.Advance(TimeSpan.FromSeconds(5));
        permit.Succeeded();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire(out var slow));
        _time.Advance(TimeSpan.FromSeconds(5));
        slow.Succeeded();
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void UpdateOptions_Invalid_ThrowsNamingTheKey_AndKeepsTheOptions()
    {
        var breaker = Create(2, TimeSpan.FromMinutes(1));

        var error = Assert.Throws<OptionsValidationException>(() => breaker.UpdateOptions(new CircuitBreakerOptions { FailureThreshold = 0 }));

        Assert.Contains(error.Failures, f => f.Contains("FailureThreshold", StringComparison.Ordinal));
        CircuitBreakerTests.Fail(breaker, 1);
        Assert.Equal(CircuitState.Closed, breaker.State);
        CircuitBreakerTests.Fail(breaker, 1);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void AddCircuitBreakers_SectionReloaded_AppliesValidOptions_RejectsInvalidOnes_KeepsState()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Resilience:CircuitBreakers:orders:FailureThreshold"] = "1",
            ["Resilience:CircuitBreakers:orders:BreakDuration"] = "00:01:00",
        }).Build();
        var log = new CapturingLogger();
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(_time)
            .AddLogging(b => b.AddProvider(log));
        services.AddResilience().AddCircuitBreakers(configuration);
        using var provider = services.BuildServiceProvider();
        var breaker = provider.GetRequiredKeyedService<global::Resilience.CircuitBreaking.CircuitBreaker>("orders");
        CircuitBreakerTests.Fail(breaker, 1);

        configuration["Resilience:CircuitBreakers:orders:FailureThreshold"] = "0";
        configuration.Reload();
        configuration["Resilience:CircuitBreakers:orders:FailureThreshold"] = "3";
        configuration.Reload();

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Contains(log.Entries, e => e.EventId.Id == ResilienceEventIds.OptionsReloadRejected && e.Message.Contains("FailureThreshold", StringComparison.Ordinal));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(breaker.TryAcquire(out var probe));
        probe.Succeeded();
        CircuitBreakerTests.Fail(breaker, 2);
        Assert.Equal(CircuitState.Closed, breaker.State);
        CircuitBreakerTests.Fail(breaker, 1);
        Assert.Equal(CircuitState.Open, breaker.State);
    }
}
