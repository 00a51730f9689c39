namespace Resilience.Http.Tests.Caching;

public sealed class BoundedLruMapTests
{
    [Fact]
    public void Set_BeyondCapacity_EvictsLeastRecentlyUsed()
    {
        var evicted = new List<string>();
        var map = new BoundedLruMap<string, int>(3) { Evicted = (key, _) => evicted.Add(key) };
        map.Set("a", 1);
        map.Set("b", 2);
        map.Set("c", 3);
        Assert.True(map.TryGetValue("a", out _));
        Assert.True(map.TryGetValue("b", out _));

        map.Set("d", 4);
        map.Set("e", 5);

        Assert.Equal(["c", "a"], evicted);
        Assert.Equal(3, map.Count);
        Assert.True(map.TryGetValue("b", out var b));
        Assert.Equal(2, b);
    }

    [Fact]
    public void Set_ExistingKey_ReplacesWithoutGrowing()
    {
        var map = new BoundedLruMap<string, int>(2);
        map.Set("a", 1);
        map.Set("a", 2);

        Assert.Equal(1, map.Count);
        Assert.True(map.TryGetValue("a", out var value));
        Assert.Equal(2, value);
    }

    [Fact]
    public void Remove_Existing_DecrementsCount()
    {
        var map = new BoundedLruMap<string, int>(2);
        map.Set("a", 1);

        Assert.True(map.Remove("a"));
        Assert.False(map.Remove("a"));
        Assert.Equal(0, map.Count);
    }

    [Fact]
    public async Task GetOrAdd_ConcurrentNewKeys_CountNeverAboveCapacity()
    {
        var map = new BoundedLruMap<int, int>(16);
        using var start = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            start.Wait();
            for (var i = 0; i < 2000; i++)
            {
                map.GetOrAdd((w * 10_000) + i, static (key, _) => key, 0);
            }
        })).ToArray();

        start.Set();
        await Task.WhenAll(workers);

        Assert.Equal(16, map.Count);
    }

    [Fact]
    public void GetOrAdd_BeyondCapacity_PrefersLeastRecentlyUsedEvictable()
    {
        var evicted = new List<string>();
        var map = new BoundedLruMap<string, int>(2) { Evictable = static v => v >= 0, Evicted = (k, _) => evicted.Add(k) };
        map.GetOrAdd("pinned", static (_, _) => -1, 0);
        map.GetOrAdd("free", static (_, _) => 1, 0);

        map.GetOrAdd("new", static (_, _) => 2, 0);

        Assert.Equal(["free"], evicted);
        Assert.True(map.TryGetValue("pinned", out _));
    }

    [Fact]
    public void GetOrAdd_BeyondCapacityNothingEvictable_LeastRecentlyUsedGoesNeverTheNewEntry()
    {
        var evicted = new List<string>();
        var map = new BoundedLruMap<string, int>(1) { Evictable = static v => v >= 0, Evicted = (k, _) => evicted.Add(k) };
        map.GetOrAdd("pinned", static (_, _) => -1, 0);

        map.GetOrAdd("new", static (_, _) => 1, 0);

        Assert.Equal(["pinned"], evicted);
        Assert.True(map.TryGetValue("new", out _));
        Assert.Equal(1, map.Count);
    }

    [Fact]
    public void Constructor_ZeroCapacity_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>("capacity", () => new BoundedLruMap<string, int>(0));
}
