namespace Resilience.Http.Tests.Authorities;

public sealed class HttpAuthorityRegistryTests
{
    [Fact]
    public void Get_PerAuthority_OneStatePerSchemeHostPort()
    {
        var registry = new HttpAuthorityRegistry<object>(HttpCircuitBreakerScope.PerAuthority, 10, static _ => new object());

        var a1 = registry.Get(new Uri("https://a.test/x?secret=1"), out var nameA);
        var a2 = registry.Get(new Uri("https://A.TEST/y"), out _);
        var b = registry.Get(new Uri("https://b.test/x"), out var nameB);

        Assert.Same(a1, a2);
        Assert.NotSame(a1, b);
        Assert.Equal("https://a.test:443", nameA);
        Assert.Equal("https://b.test:443", nameB);
        Assert.Equal(2, registry.Count);
    }

    [Fact]
    public void Get_Shared_OneStateForAllHosts()
    {
        var created = 0;
        var registry = new HttpAuthorityRegistry<object>(HttpCircuitBreakerScope.Shared, 10, _ => { created++; return new object(); });

        var a = registry.Get(new Uri("https://a.test/"), out var name);
        var b = registry.Get(new Uri("http://b.test:81/"), out _);

        Assert.Same(a, b);
        Assert.Equal(HttpAuthorityRegistry<object>.SharedAuthority, name);
        Assert.Equal(1, created);
    }

    [Fact]
    public void Get_MoreAuthoritiesThanLimit_LeastRecentlyUsedEvicted()
    {
        var evicted = new List<string>();
        var registry = new HttpAuthorityRegistry<object>(HttpCircuitBreakerScope.PerAuthority, 2, static _ => new object(), (name, _) => evicted.Add(name));
        var first = registry.Get(new Uri("http://one.test/"), out _);
        registry.Get(new Uri("http://two.test/"), out _);
        registry.Get(new Uri("http://one.test/"), out _);

        registry.Get(new Uri("http://three.test/"), out _);

        Assert.Equal(["http://two.test:80"], evicted);
        Assert.Equal(2, registry.Count);
        Assert.Same(first, registry.Get(new Uri("http://one.test/"), out _));
    }

    [Fact]
    public void Get_TrackedAuthority_DoesNotAllocate()
    {
        var registry = new HttpAuthorityRegistry<object>(HttpCircuitBreakerScope.PerAuthority, 10, static _ => new object());
        var uri = new Uri("https://api.test/v1/items?q=1");
        registry.Get(uri, out _);
        registry.Get(uri, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            registry.Get(uri, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
