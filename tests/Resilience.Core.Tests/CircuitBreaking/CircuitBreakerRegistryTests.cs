using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Snapshooter.Xunit;

namespace Resilience.Core.Tests.CircuitBreaking;

public sealed class CircuitBreakerRegistryTests
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void GetOrAdd_SameName_ReturnsSameBreakerWithPerNameOptions()
    {
        using var registry = new CircuitBreakerRegistry(
            name => new CircuitBreakerOptions { FailureThreshold = name == "db" ? 2 : 7 }, _time);

        var db = registry.GetOrAdd("db");
        Assert.Same(db, registry.GetOrAdd("db"));
        Assert.True(registry.TryGet("db", out var found));
        Assert.Same(db, found);
        Assert.False(registry.TryGet("missing", out _));

        for (var i = 0; i < 2; i++)
        {
            Assert.True(db.TryAcquire(out var p));
            p.Failed();
        }

        Assert.Equal(CircuitState.Open, db.State);
        var api = registry.GetOrAdd("api");
        for (var i = 0; i < 6; i++)
        {
            Assert.True(api.TryAcquire(out var p));
            p.Failed();
        }

        Assert.Equal(CircuitState.Closed, api.State);
    }

    [Fact]
    public void GetOrAdd_ExistingNameWithOtherOptions_ThrowsNamingTheSettings()
    {
        using var registry = new CircuitBreakerRegistry(timeProvider: _time);
        var first = registry.GetOrAdd("db", new CircuitBreakerOptions { FailureThreshold = 3 });

        var ex = Assert.Throws<InvalidOperationException>(() =>
            registry.GetOrAdd("db", new CircuitBreakerOptions { FailureThreshold = 10, BreakDuration = TimeSpan.FromSeconds(5) }));

        Assert.Contains("'db'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("FailureThreshold, BreakDuration", ex.Message, StringComparison.Ordinal);
        Assert.True(registry.TryGet("db", out var existing));
        Assert.Same(first, existing);
    }

    [Fact]
    public void GetOrAdd_ExistingNameWithEqualOptions_ReturnsTheSameBreaker()
    {
        using var registry = new CircuitBreakerRegistry(timeProvider: _time);
        var first = registry.GetOrAdd("db", new CircuitBreakerOptions { FailureThreshold = 3, ShouldHandle = new Classifier(1).Handles });

        var second = registry.GetOrAdd("db", new CircuitBreakerOptions { FailureThreshold = 3, ShouldHandle = new Classifier(2).Handles });

        Assert.Same(first, second);
    }

    private sealed class Classifier(int id)
    {
        public bool Handles(Exception exception) => exception.HResult != id;
    }

    [Fact]
    public void GetOrAdd_Factory_CalledOnceAndRemoveForgets()
    {
        using var registry = new CircuitBreakerRegistry(timeProvider: _time);
        var calls = 0;
        CircuitBreakerOptions Factory(string n)
        {
            calls++;
            return new CircuitBreakerOptions();
        }

        var a = registry.GetOrAdd("https://a:443", Factory);
        Assert.Same(a, registry.GetOrAdd("https://a:443", Factory));
        Assert.Equal(1, calls);
        Assert.Equal(1, registry.Count);

        Assert.True(registry.Remove("https://a:443"));
        Assert.False(registry.Remove("https://a:443"));
        Assert.NotSame(a, registry.GetOrAdd("https://a:443", Factory));
        Assert.Equal(2, calls);
    }

    [Fact]
    public void GetOrAdd_InvalidOptions_Throws() =>
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            new CircuitBreakerRegistry(timeProvider: _time).GetOrAdd("x", new CircuitBreakerOptions { PermittedProbes = 0 }));

    [Fact]
    public void GetStatusReport_Json_MatchesSnapshot()
    {
        using var registry = new CircuitBreakerRegistry(timeProvider: _time);
        registry.GetOrAdd("payments", new CircuitBreakerOptions { FailureThreshold = 3 });
        var orders = registry.GetOrAdd("orders", new CircuitBreakerOptions { FailureThreshold = 2, BreakDuration = TimeSpan.FromSeconds(30) });
        var search = registry.GetOrAdd("search");
        for (var i = 0; i < 2; i++)
        {
            Assert.True(orders.TryAcquire(out var p));
            p.Failed();
        }

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(orders.TryAcquire(out _));
        Assert.True(registry.GetOrAdd("payments").TryAcquire(out var failed));
        failed.Failed();
        search.Isolate();

        var json = JsonSerializer.Serialize(registry.GetStatusReport(), Indented);

        Snapshot.Match(json);
        Assert.Equal(["orders", "payments", "search"], registry.GetBreakers().Select(b => b.Name));
    }
}
