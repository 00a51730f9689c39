using System.Net;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Resilience.Testing;

namespace ContentService.Tests.Usage;

/// <summary><c>GET /api/cms/usage</c> against the real fake CMS on loopback, with the service's clock faked for exact ages.</summary>
public sealed class CmsUsageTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private ServiceHarness _harness = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _harness = await ServiceHarness.StartAsync(postgres.ConnectionString);
        var service = _harness.AddInstance(
            new Dictionary<string, string?>
            {
                ["Executor:Workers"] = "0",
                // With a fake clock a retry delay would never end; a failed call gives up at once instead.
                ["Resilience:Http:cms-usage:MaxRetries"] = "0",
                ["Database:Retry:MaxRetries"] = "0",
            },
            s => s.AddSingleton<TimeProvider>(_clock));
        _client = service.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _harness.DisposeAsync();
    }

    [Fact]
    public async Task Usage_IsFetched_ThenCachedFor30Seconds_WithItsAge_ThenFetchedAgain()
    {
        var first = await Json.ReadAsync(await Json.GetAsync(_client, "/api/cms/usage"));
        _clock.Advance(TimeSpan.FromSeconds(29));
        using var cachedResponse = await Json.GetAsync(_client, "/api/cms/usage");
        var cached = await Json.ReadAsync(cachedResponse);
        _clock.Advance(TimeSpan.FromSeconds(2));
        var refetched = await Json.ReadAsync(await Json.GetAsync(_client, "/api/cms/usage"));

        // usageCalls is the CMS's own count of usage calls it answered: it moves only when the CMS was asked.
        Assert.Equal((1L, 0.0, false), (first.GetProperty("usageCalls").GetInt64(), first.GetProperty("ageSeconds").GetDouble(), first.GetProperty("stale").GetBoolean()));
        Assert.Equal("free", first.GetProperty("plan").GetString());
        Assert.Equal((1L, 29.0, false), (cached.GetProperty("usageCalls").GetInt64(), cached.GetProperty("ageSeconds").GetDouble(), cached.GetProperty("stale").GetBoolean()));
        Assert.Equal(TimeSpan.FromSeconds(29), cachedResponse.Headers.Age);
        Assert.Equal((2L, 0.0), (refetched.GetProperty("usageCalls").GetInt64(), refetched.GetProperty("ageSeconds").GetDouble()));
    }

    [Fact]
    public async Task Usage_CmsDown_ServesTheLastGoodValueStale_WithItsAge_UntilTooOld()
    {
        await Json.ReadAsync(await Json.GetAsync(_client, "/api/cms/usage"));
        await _harness.Providers.SetFaultAsync("cms", """{"errorRate":1,"errorStatus":503}""");
        _clock.Advance(TimeSpan.FromSeconds(45));

        using var staleResponse = await Json.GetAsync(_client, "/api/cms/usage");
        var stale = await Json.ReadAsync(staleResponse);
        _clock.Advance(TimeSpan.FromHours(7));
        using var tooOld = await Json.GetAsync(_client, "/api/cms/usage");

        Assert.True(stale.GetProperty("stale").GetBoolean());
        Assert.Equal(1L, stale.GetProperty("usageCalls").GetInt64());
        Assert.Equal(45, stale.GetProperty("ageSeconds").GetDouble());
        Assert.Equal(TimeSpan.FromSeconds(45), staleResponse.Headers.Age);
        Assert.Contains("110", staleResponse.Headers.Warning.ToString(), StringComparison.Ordinal);
        Assert.Contains("CMS", stale.GetProperty("staleReason").GetString(), StringComparison.Ordinal);
        await Problem.AssertAsync(tooOld, HttpStatusCode.ServiceUnavailable, "ERR_UPSTREAM_UNAVAILABLE");
    }

    [Fact]
    public async Task Usage_CmsDownWithNothingCached_Returns503_WithErrorIdAndRetryAfter()
    {
        await _harness.Providers.SetFaultAsync("cms", """{"outage":true}""");

        using var response = await Json.GetAsync(_client, "/api/cms/usage");

        var problem = await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "ERR_UPSTREAM_UNAVAILABLE");
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("usage", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
    }
}
