using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Fallback;
using Resilience.Testing;

namespace Resilience.Core.Tests.Fallback;

public sealed class CachedFallbackTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private CachedFallback<string, string> Create(int maxEntries = 100, Func<string, string>? staticFallback = null, Func<Exception, bool>? shouldHandle = null) =>
        new("prices", new CachedFallbackOptions { MaxEntries = maxEntries, MaxStaleness = TimeSpan.FromMinutes(5), ShouldHandle = shouldHandle }, staticFallback, _time);

    private static ValueTask<string> Throw(Exception e, CancellationToken ct) => ValueTask.FromException<string>(e);

    [Fact]
    public async Task ExecuteAsync_Success_ReturnsFreshAndStores()
    {
        var fallback = Create();
        var value = await fallback.ExecuteAsync("k", static (s, _) => new ValueTask<string>(s), "v1", CancellationToken.None);

        Assert.Equal("v1", value.Value);
        Assert.Equal(FallbackSource.Live, value.Source);
        Assert.False(value.IsStale);
        Assert.False(value.IsFallback);
        Assert.Equal(1, fallback.Count);
    }

    [Fact]
    public async Task ExecuteAsync_FailureWithinMaxStaleness_ReturnsStaleWithAge()
    {
        var fallback = Create();
        var storedAt = _time.GetUtcNow();
        fallback.Store("k", "cached");
        _time.Advance(TimeSpan.FromMinutes(3));

        var value = await fallback.ExecuteAsync("k", Throw, new HttpRequestException("down"), CancellationToken.None);

        Assert.Equal("cached", value.Value);
        Assert.True(value.IsStale);
        Assert.Equal(TimeSpan.FromMinutes(3), value.Age);
        Assert.Equal(storedAt, value.StoredAt);
        Assert.Equal(1, fallback.StaleServed);
        Assert.Equal(0, fallback.StaticServed);
    }

    [Fact]
    public async Task ExecuteAsync_OpenCircuit_ReturnsStale()
    {
        var fallback = Create(shouldHandle: static e => e is TimeoutException);
        fallback.Store("k", "cached");
        var value = await fallback.ExecuteAsync("k", Throw, new BrokenCircuitException("db", CircuitState.Open, TimeSpan.FromSeconds(5)), CancellationToken.None);
        Assert.True(value.IsStale);
    }

    [Fact]
    public async Task ExecuteAsync_ValueTooOld_OriginalFailureSurfaces()
    {
        var fallback = Create();
        fallback.Store("k", "cached");
        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromTicks(1));

        var original = new HttpRequestException("down");
        var thrown = await Assert.ThrowsAsync<HttpRequestException>(async () => await fallback.ExecuteAsync("k", Throw, original, CancellationToken.None));
        Assert.Same(original, thrown);
        Assert.False(fallback.TryGetFallback("k", out _));
    }

    [Fact]
    public async Task ExecuteAsync_NothingCachedWithStatic_ReturnsStatic()
    {
        var fallback = Create(staticFallback: static k => "default-" + k);
        var value = await fallback.ExecuteAsync("k", Throw, new HttpRequestException(), CancellationToken.None);
        Assert.Equal("default-k", value.Value);
        Assert.Equal(FallbackSource.Static, value.Source);
        Assert.True(value.IsFallback);
        Assert.False(value.IsStale);
        Assert.Equal(1, fallback.StaticServed);
    }

    [Fact]
    public async Task ExecuteAsync_UnhandledException_Surfaces()
    {
        var fallback = Create(shouldHandle: static e => e is HttpRequestException);
        fallback.Store("k", "cached");
        await Assert.ThrowsAsync<ArgumentException>(async () => await fallback.ExecuteAsync("k", Throw, new ArgumentException("bad"), CancellationToken.None));
        Assert.Equal(0, fallback.StaleServed);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCanceled_NotReplaced()
    {
        var fallback = Create();
        fallback.Store("k", "cached");
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await fallback.ExecuteAsync("k", static (_, ct) => ValueTask.FromCanceled<string>(ct), 0, cts.Token));
    }

    [Fact]
    public async Task ExecuteAsync_AsyncFailure_ReturnsStale()
    {
        var fallback = Create();
        fallback.Store("k", "cached");
        var gate = new TaskCompletionSource<string>();
        var call = fallback.ExecuteAsync("k", static (g, _) => new ValueTask<string>(g.Task), gate, CancellationToken.None);
        gate.SetException(new TimeoutException());
        Assert.Equal("cached", (await call).Value);
    }

    [Fact]
    public void Store_Update_ReplacesValueAndTime()
    {
        var fallback = Create();
        fallback.Store("k", "old");
        _time.Advance(TimeSpan.FromMinutes(4));
        fallback.Store("k", "new");
        _time.Advance(TimeSpan.FromMinutes(2));

        Assert.True(fallback.TryGetFallback("k", out var value));
        Assert.Equal("new", value.Value);
        Assert.Equal(TimeSpan.FromMinutes(2), value.Age);
    }

    [Fact]
    public void Store_BeyondMaxEntries_EvictsNotRecentlyUsed()
    {
        var fallback = Create(maxEntries: 3);
        fallback.Store("a", "1");
        fallback.Store("b", "2");
        fallback.Store("c", "3");
        fallback.Store("d", "4"); // every entry was referenced: the hand clears all, then evicts "a"
        Assert.Equal(3, fallback.Count);
        Assert.False(fallback.TryGetFallback("a", out _));

        Assert.True(fallback.TryGetFallback("b", out _)); // "b" referenced again, "c" not
        fallback.Store("e", "5");
        Assert.Equal(3, fallback.Count);
        Assert.False(fallback.TryGetFallback("c", out _));
        Assert.True(fallback.TryGetFallback("b", out _));
        Assert.True(fallback.TryGetFallback("d", out _));
        Assert.True(fallback.TryGetFallback("e", out _));
    }

    [Fact]
    public void Remove_FreesSlot()
    {
        var fallback = Create(maxEntries: 2);
        fallback.Store("a", "1");
        fallback.Store("b", "2");
        Assert.True(fallback.Remove("a"));
        Assert.False(fallback.Remove("a"));
        fallback.Store("c", "3");
        Assert.Equal(2, fallback.Count);
        Assert.True(fallback.TryGetFallback("b", out _));
        Assert.True(fallback.TryGetFallback("c", out _));
    }

    [Fact]
    public void Store_SameKeyAfterRemoveOrEviction_IsStoredAgainNotLostInTheOldEntry()
    {
        var fallback = Create(maxEntries: 1);
        fallback.Store("k", "1");
        fallback.Store("k", "2"); // written through the remembered entry
        Assert.True(fallback.Remove("k"));
        fallback.Store("k", "3");
        Assert.True(fallback.TryGetFallback("k", out var afterRemove));
        Assert.Equal("3", afterRemove.Value);

        fallback.Store("other", "x"); // evicts "k"
        fallback.Store("k", "4");
        Assert.True(fallback.TryGetFallback("k", out var afterEviction));
        Assert.Equal("4", afterEviction.Value);
        Assert.Equal(1, fallback.Count);
    }

    [Fact]
    public void StoreAndTryGet_ExistingKeyReferenceValue_DoNotAllocate()
    {
        var fallback = Create();
        var value = "cached";
        var hits = 0;

        // Least of three passes: a per-call allocation shows in each, a one-off of the runtime (tiered compilation
        // finishing a method on this thread under load) in one only.
        var allocated = AllocationMeter.Least(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                fallback.Store("k", value);
                if (fallback.TryGetFallback("k", out var got) && ReferenceEquals(value, got.Value))
                {
                    hits++;
                }
            }
        });

        Assert.Equal(0, allocated);
        Assert.True(hits >= 10_000);
    }

    [Fact]
    public void Concurrent_StoresAndReads_StayBoundedAndConsistent()
    {
        var fallback = new CachedFallback<int, (int Key, int Version)>("c", new CachedFallbackOptions { MaxEntries = 64 }, timeProvider: _time);
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                var key = (i * 7 + t) % 200;
                fallback.Store(key, (key, i));
                if (fallback.TryGetFallback(key, out var got))
                {
                    Assert.Equal(key, got.Value.Key);
                }

                Assert.InRange(fallback.Count, 0, 64);
            }
        });

        Assert.InRange(fallback.Count, 1, 64);
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        var e = Assert.Throws<OptionsValidationException>(() =>
            new CachedFallback<string, string>("x", new CachedFallbackOptions { MaxEntries = 0, MaxStaleness = TimeSpan.Zero }));
        Assert.Equal(2, e.Failures.Count());
    }
}
