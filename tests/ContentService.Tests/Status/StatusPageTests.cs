using System.Net;
using System.Text.Json;
using ContentService.Status;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Testing;

namespace ContentService.Tests.Status;

public sealed class StatusPageTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task StatusPage_Get_ServesHtmlScriptAndStyleUnderStrictPolicy()
    {
        await using var factory = CreateFactory(postgres.ConnectionString);
        using var client = factory.CreateClient();

        using var page = await client.GetAsync(new Uri("/status", UriKind.Relative));
        using var script = await client.GetAsync(new Uri("/status/status.js", UriKind.Relative));
        using var style = await client.GetAsync(new Uri("/status/status.css", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"/status/status.js\"", html, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/status/data", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("text/css", style.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task StatusData_BreakerIsolatedThenReset_ListsBothTransitionsWithReasons()
    {
        await using var factory = CreateFactory(postgres.ConnectionString);
        using var client = factory.CreateClient();
        var name = "status-test-" + Guid.NewGuid().ToString("N");
        var breaker = factory.Services.GetRequiredService<CircuitBreakerRegistry>().GetOrAdd(name);

        breaker.Isolate();
        var whileIsolated = FindBreaker(await GetDataAsync(client), name);
        breaker.Reset();
        var afterReset = FindBreaker(await GetDataAsync(client), name);

        Assert.Equal("isolated", whileIsolated.GetProperty("state").GetString());
        Assert.Equal("closed", afterReset.GetProperty("state").GetString());
        var history = afterReset.GetProperty("history").EnumerateArray().ToArray();
        Assert.Equal(2, history.Length);
        Assert.Equal(("closed", "isolated", "Isolated"), Transition(history[0]));
        Assert.Equal(("isolated", "closed", "Reset"), Transition(history[1]));
    }

    [Fact]
    public async Task StatusData_TransitionsBeyondTheLimit_KeepsTheNewest()
    {
        await using var factory = CreateFactory(postgres.ConnectionString, ("StatusPage:TransitionsPerBreaker", "3"));
        using var client = factory.CreateClient();
        var name = "status-test-" + Guid.NewGuid().ToString("N");
        var breaker = factory.Services.GetRequiredService<CircuitBreakerRegistry>().GetOrAdd(name);

        for (var i = 0; i < 4; i++)
        {
            breaker.Isolate();
            breaker.Reset();
        }

        var history = FindBreaker(await GetDataAsync(client), name).GetProperty("history").EnumerateArray().ToArray();
        Assert.Equal(3, history.Length);
        Assert.Equal(("closed", "isolated", "Isolated"), Transition(history[1]));
        Assert.Equal(("isolated", "closed", "Reset"), Transition(history[2]));
    }

    [Fact]
    public async Task StatusData_PoolSampledBeyondCapacity_KeepsTheNewestSamplesInOrder()
    {
        // A long interval keeps the timer out of the way: the test takes the samples itself.
        await using var factory = CreateFactory(postgres.ConnectionString, ("StatusPage:PoolSamples", "10"), ("StatusPage:SampleInterval", "00:01:00"));
        using var client = factory.CreateClient();
        var sampler = factory.Services.GetRequiredService<PoolSampler>();

        for (var i = 0; i < 12; i++)
        {
            sampler.Sample();
        }

        var pool = (await GetDataAsync(client)).GetProperty("pool");
        var samples = pool.GetProperty("samples").EnumerateArray().Select(static s => s.GetProperty("at").GetDateTimeOffset()).ToArray();
        Assert.Equal(10, samples.Length);
        Assert.Equal(samples.Order().ToArray(), samples);
        Assert.Equal("content-db", pool.GetProperty("name").GetString());
    }

    [Fact]
    public async Task StatusData_TaskCosts_SummedPerProviderOverThirtyDays()
    {
        var database = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = CreateFactory(database, ("Metrics:CacheDuration", "00:00:00"));
        using var client = factory.CreateClient();
        _ = await client.GetAsync(new Uri("/health/live", UriKind.Relative)); // started, so migrated
        await InsertCostsAsync(database, ("llm-budget", 100, 0.25m, 0), ("llm-budget", 50, 0.5m, 1), ("llm-budget", 1000, 9m, 31), ("llm-premium", 10, 1m, 2));

        var costs = (await GetDataAsync(client)).GetProperty("costs");

        Assert.False(costs.GetProperty("isStale").GetBoolean());
        var rows = costs.GetProperty("providers").EnumerateArray()
            .Select(static p => (p.GetProperty("provider").GetString(), p.GetProperty("calls").GetInt64(), p.GetProperty("tokens").GetInt64(), p.GetProperty("costUsd").GetDecimal()))
            .ToArray();
        Assert.Equal([("llm-premium", 1L, 10L, 1m), ("llm-budget", 2L, 150L, 0.75m)], rows);
    }

    [Fact]
    public async Task StatusData_DatabaseDown_Answers200WithCostsStaleAndTheFallbackCounted()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var factory = CreateFactory(server.ConnectionString, ("Metrics:CacheDuration", "00:00:00"));
        using var client = factory.CreateClient();
        var live = (await GetDataAsync(client)).GetProperty("costs");
        await server.PauseAsync();

        var data = await GetDataAsync(client);

        Assert.False(live.GetProperty("isStale").GetBoolean());
        var costs = data.GetProperty("costs");
        Assert.True(costs.GetProperty("isStale").GetBoolean());
        // The stale figures are the ones computed while the database was up.
        Assert.Equal(live.GetProperty("readAt").GetDateTimeOffset(), costs.GetProperty("readAt").GetDateTimeOffset());
        Assert.Contains(data.GetProperty("counters").EnumerateArray(), static c =>
            c.GetProperty("metric").GetString() == "fallbacks served" && c.GetProperty("name").GetString() == "metrics");
    }

    [Fact]
    public async Task StatusData_DatabaseDownBeforeAnyRead_Answers200WithTheErrorId()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var factory = CreateFactory(server.ConnectionString);
        using var client = factory.CreateClient();
        _ = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        await server.PauseAsync();

        var costs = (await GetDataAsync(client)).GetProperty("costs");

        Assert.False(costs.GetProperty("isStale").GetBoolean());
        Assert.Equal("ERR_DB_UNAVAILABLE", costs.GetProperty("errorId").GetString());
        Assert.Empty(costs.GetProperty("providers").EnumerateArray());
    }

    /// <summary>Regression: breakers showed the provider's host:port, and an open breaker "failures 0" beside its transitions.</summary>
    [Fact]
    public async Task StatusData_PerHostBreakerOpen_ShowsTheLogicalNameAndNoFailureCount()
    {
        await using var factory = CreateFactory(postgres.ConnectionString);
        using var client = factory.CreateClient();
        var logical = "llm-status-" + Guid.NewGuid().ToString("N")[..8];
        var breaker = factory.Services.GetRequiredService<CircuitBreakerRegistry>().GetOrAdd(logical + ":http://127.0.0.1:5090");

        breaker.Isolate();
        var data = await GetDataAsync(client);

        var view = FindBreaker(data, logical);
        Assert.Equal("isolated", view.GetProperty("state").GetString());
        Assert.False(view.TryGetProperty("failures", out _), "an open breaker's failure count restarts at 0 and must not be shown");
        Assert.Equal("failures in a row", view.GetProperty("failuresLabel").GetString());
        Assert.Single(view.GetProperty("history").EnumerateArray());
        Assert.DoesNotContain("127.0.0.1:5090", data.GetProperty("breakers").GetRawText(), StringComparison.Ordinal);
        Assert.Equal("failures in the sampling window", FindBreaker(data, "content-db").GetProperty("failuresLabel").GetString());
    }

    /// <summary>An operator can protect the page: without its key every part of it is 401; the key opens it by header or, once given in the address, by cookie.</summary>
    [Fact]
    public async Task StatusPage_AccessKeyConfigured_RequiresItByHeaderOrCookie()
    {
        const string key = "status-page-key-0123456789";
        await using var factory = CreateFactory(postgres.ConnectionString, ("StatusPage:AccessKey", key));
        using var anonymous = factory.CreateClient();
        foreach (var path in new[] { "/status", "/status/status.js", "/status/data" })
        {
            using var refused = await anonymous.GetAsync(new Uri(path, UriKind.Relative));
            await Problem.AssertAsync(refused, HttpStatusCode.Unauthorized, "ERR_UNAUTHORIZED");
        }

        using var wrong = await anonymous.GetAsync(new Uri("/status?key=not-the-key-0000000000", UriKind.Relative));
        await Problem.AssertAsync(wrong, HttpStatusCode.Unauthorized, "ERR_UNAUTHORIZED");

        using var byHeader = new HttpRequestMessage(HttpMethod.Get, new Uri("/status/data", UriKind.Relative));
        byHeader.Headers.Add("X-Status-Key", key);
        using var headerResponse = await anonymous.SendAsync(byHeader);
        Assert.Equal(HttpStatusCode.OK, headerResponse.StatusCode);

        // A browser: the key once in the address, then the cookie (the client follows the redirect and keeps cookies).
        using var browser = factory.CreateClient();
        using var page = await browser.GetAsync(new Uri($"/status?key={key}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("/status", page.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Equal(string.Empty, page.RequestMessage.RequestUri.Query);
        Assert.Equal(JsonValueKind.Array, (await GetDataAsync(browser)).GetProperty("breakers").ValueKind); // 200 asserted inside
    }

    [Fact]
    public void BoundedRing_AddedBeyondCapacity_KeepsTheNewestOldestFirst()
    {
        var ring = new BoundedRing<int>(3);

        for (var i = 1; i <= 5; i++)
        {
            ring.Add(i);
        }

        Assert.Equal([3, 4, 5], ring.ToArray());
    }

    private static (string?, string?, string?) Transition(JsonElement t) =>
        (t.GetProperty("from").GetString(), t.GetProperty("to").GetString(), t.GetProperty("reason").GetString());

    private static JsonElement FindBreaker(JsonElement data, string name) =>
        data.GetProperty("breakers").EnumerateArray().Single(b => b.GetProperty("name").GetString() == name);

    private static async Task<JsonElement> GetDataAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/status/data", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    private static async Task InsertCostsAsync(string connectionString, params (string Provider, int Tokens, decimal Usd, int DaysAgo)[] costs)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var taskId = Guid.NewGuid();
        await using (var task = dataSource.CreateCommand("INSERT INTO content_tasks (id, topic) VALUES ($1, 'status page test')"))
        {
            task.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = taskId });
            await task.ExecuteNonQueryAsync();
        }

        foreach (var (provider, tokens, usd, daysAgo) in costs)
        {
            await using var cost = dataSource.CreateCommand(
                "INSERT INTO task_costs (task_id, provider, tokens, cost_usd, created_at) VALUES ($1, $2, $3, $4, now() - make_interval(days => $5))");
            cost.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = taskId });
            cost.Parameters.Add(new NpgsqlParameter<string> { TypedValue = provider });
            cost.Parameters.Add(new NpgsqlParameter<int> { TypedValue = tokens });
            cost.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = usd });
            cost.Parameters.Add(new NpgsqlParameter<int> { TypedValue = daysAgo });
            await cost.ExecuteNonQueryAsync();
        }
    }

    private static ContentServiceFactory CreateFactory(string connectionString, params (string Key, string Value)[] settings)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in settings)
        {
            overrides[key] = value;
        }

        return new ContentServiceFactory(connectionString, settings: overrides);
    }
}
