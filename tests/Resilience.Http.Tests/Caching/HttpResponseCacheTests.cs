using System.Net;
using Microsoft.Extensions.Time.Testing;
using Resilience.Http.Testing;

namespace Resilience.Http.Tests.Caching;

public sealed class HttpResponseCacheTests : IAsyncLifetime, IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly HttpClient _client = new();
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task StoreAsync_GoodGet_CallerStillReadsBodyAndStaleCopyRebuilt()
    {
        var cache = CreateCache();
        _server.Enqueue(FaultResponse.Status(200, "{\"id\":1}", "application/json", headers: ("ETag", "\"v1\"")));
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/items/1?x=1"));
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.True(await cache.StoreAsync(request, response, CancellationToken.None));
        Assert.Equal("{\"id\":1}", await response.Content.ReadAsStringAsync());

        _time.Advance(TimeSpan.FromSeconds(42.7));
        using var later = new HttpRequestMessage(HttpMethod.Get, _server.Url("/items/1?x=1"));
        Assert.True(cache.TryCreateStaleResponse(later, out var stale, out var age));
        using (stale)
        {
            Assert.Equal(TimeSpan.FromSeconds(42.7), age);
            Assert.Equal(HttpStatusCode.OK, stale!.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(42), stale.Headers.Age);
            Assert.Equal("\"v1\"", stale.Headers.ETag?.Tag);
            Assert.Equal("application/json", stale.Content.Headers.ContentType?.MediaType);
            Assert.Equal("{\"id\":1}", await stale.Content.ReadAsStringAsync());
            Assert.Equal(HttpResilienceOutcome.Stale, HttpResilienceResponse.GetOutcome(stale));
            Assert.Equal("stale", Assert.Single(stale.Headers.GetValues(HttpResilienceResponse.OutcomeHeader)));
        }

        // Each call builds a fresh response whose body can be read again.
        Assert.True(cache.TryCreateStaleResponse(later, out var again, out _));
        using (again)
        {
            Assert.Equal("{\"id\":1}", await again!.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task TryCreateStaleResponse_OlderThanMaxStaleness_NotServedAndForgotten()
    {
        var cache = CreateCache(o => o.MaxStaleness = TimeSpan.FromMinutes(1));
        await StoreAsync(cache, "/a", "A");

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(cache.TryCreateStaleResponse(Get("/a"), out var atLimit, out _));
        atLimit!.Dispose();

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(cache.TryCreateStaleResponse(Get("/a"), out var tooOld, out _));
        Assert.Null(tooOld);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task StoreAsync_NonGet_NeverStoredOrServed()
    {
        var cache = CreateCache();
        using var post = new HttpRequestMessage(HttpMethod.Post, _server.Url("/a")) { Content = new StringContent("x") };
        using var response = await _client.SendAsync(post);

        Assert.False(await cache.StoreAsync(post, response, CancellationToken.None));
        await StoreAsync(cache, "/a", "A");
        using var put = new HttpRequestMessage(HttpMethod.Put, _server.Url("/a"));
        Assert.False(cache.TryCreateStaleResponse(put, out _, out _));
        Assert.Equal(1, cache.Count);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(404)]
    [InlineData(304)]
    public async Task StoreAsync_NonSuccessStatus_NotStored(int status)
    {
        var cache = CreateCache();
        _server.Enqueue(FaultResponse.Status(status, status == 304 ? null : "nope"));
        using var request = Get("/a");
        using var response = await _client.SendAsync(request);

        Assert.False(await cache.StoreAsync(request, response, CancellationToken.None));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task StoreAsync_NoStore_NotStored()
    {
        var cache = CreateCache();
        _server.Enqueue(FaultResponse.Status(200, "private", headers: ("Cache-Control", "no-store")));
        using var request = Get("/a");
        using var response = await _client.SendAsync(request);

        Assert.False(await cache.StoreAsync(request, response, CancellationToken.None));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StoreAsync_BodyAboveLimit_NotStoredAndCallerReadsWholeBody(bool chunked)
    {
        var cache = CreateCache(o => o.MaxBodyBytes = 100);
        var body = new string('x', 50_000);
        _server.Enqueue(FaultResponse.Ok(body, chunked: chunked));
        using var request = Get("/big");
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.False(await cache.StoreAsync(request, response, CancellationToken.None));
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task StoreAsync_MoreUrisThanMaxEntries_LeastRecentlyUsedEvicted()
    {
        var cache = CreateCache(o => o.MaxEntries = 2);
        await StoreAsync(cache, "/1", "one");
        await StoreAsync(cache, "/2", "two");
        Assert.True(cache.TryCreateStaleResponse(Get("/1"), out var touched, out _));
        touched!.Dispose();

        await StoreAsync(cache, "/3", "three");

        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryCreateStaleResponse(Get("/1"), out var one, out _));
        one!.Dispose();
        Assert.False(cache.TryCreateStaleResponse(Get("/2"), out _, out _));
        Assert.True(cache.TryCreateStaleResponse(Get("/3"), out var three, out _));
        three!.Dispose();
    }

    [Fact]
    public async Task TryCreateStaleResponse_OtherCredentials_NotServed()
    {
        var cache = CreateCache();
        using (var mine = Get("/me"))
        {
            mine.Headers.TryAddWithoutValidation("Authorization", "Bearer alice");
            _server.Enqueue(FaultResponse.Ok("alice's data"));
            using var response = await _client.SendAsync(mine);
            Assert.True(await cache.StoreAsync(mine, response, CancellationToken.None));
        }

        using var theirs = Get("/me");
        theirs.Headers.TryAddWithoutValidation("Authorization", "Bearer bob");
        using var anonymous = Get("/me");
        using var same = Get("/me");
        same.Headers.TryAddWithoutValidation("Authorization", "Bearer alice");

        Assert.False(cache.TryCreateStaleResponse(theirs, out _, out _));
        Assert.False(cache.TryCreateStaleResponse(anonymous, out _, out _));
        Assert.True(cache.TryCreateStaleResponse(same, out var served, out _));
        Assert.Equal("alice's data", await served!.Content.ReadAsStringAsync());
        served.Dispose();
    }

    [Fact]
    public async Task TryCreateStaleResponse_UpstreamAge_AddedToResidentTime()
    {
        var cache = CreateCache();
        _server.Enqueue(FaultResponse.Status(200, "cached upstream", headers: ("Age", "100")));
        using (var request = Get("/aged"))
        {
            using var response = await _client.SendAsync(request);
            Assert.True(await cache.StoreAsync(request, response, CancellationToken.None));
        }

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(cache.TryCreateStaleResponse(Get("/aged"), out var stale, out _));

        Assert.Equal(TimeSpan.FromSeconds(120), stale!.Headers.Age);
        stale.Dispose();
    }

    private HttpResponseCache CreateCache(Action<HttpCachedFallbackOptions>? configure = null)
    {
        var options = new HttpCachedFallbackOptions { Enabled = true };
        configure?.Invoke(options);
        return new HttpResponseCache(options, _time);
    }

    private HttpRequestMessage Get(string path) => new(HttpMethod.Get, _server.Url(path));

    private async Task StoreAsync(HttpResponseCache cache, string path, string body)
    {
        _server.Enqueue(FaultResponse.Ok(body));
        using var request = Get(path);
        using var response = await _client.SendAsync(request);
        Assert.True(await cache.StoreAsync(request, response, CancellationToken.None));
    }
}
