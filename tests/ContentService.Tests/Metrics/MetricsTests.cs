using System.Net;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Resilience.Testing;

namespace ContentService.Tests.Metrics;

public sealed class MetricsTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static Dictionary<string, string?> Settings(string connectionString) => new()
    {
        ["Executor:Workers"] = "0",
        // With a fake clock a retry delay would never end; these tests fail fast instead.
        ["Database:Retry:MaxRetries"] = "0",
    };

    [Fact]
    public async Task Metrics_CountsByStatus_SuccessRate_AndCostOfTheLast30DaysByProvider()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: Settings(connectionString));
        _ = factory.Services;
        await SeedAsync(connectionString);
        using var client = factory.CreateClient();

        var metrics = await Json.ReadAsync(await Json.GetAsync(client, "/api/metrics"));

        var tasks = metrics.GetProperty("tasks");
        Assert.Equal((3, 1, 1, 6), (tasks.GetProperty("completed").GetInt64(), tasks.GetProperty("failed").GetInt64(), tasks.GetProperty("pending").GetInt64(), tasks.GetProperty("total").GetInt64()));
        Assert.Equal(0.75, metrics.GetProperty("successRate").GetDouble());
        var costs = metrics.GetProperty("costLast30Days").EnumerateArray().ToDictionary(c => c.GetProperty("provider").GetString()!, c => c.GetProperty("costUsd").GetDecimal());
        Assert.Equal(new Dictionary<string, decimal> { ["budget"] = 0.25m, ["premium"] = 1.5m }, costs);
        Assert.Equal(1.75m, metrics.GetProperty("totalCostUsd").GetDecimal());
        Assert.False(metrics.GetProperty("stale").GetBoolean());
    }

    [Fact]
    public async Task Metrics_AreCachedFor60Seconds_WithTheirAgeShown_ThenRecomputed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: Settings(connectionString))
        {
            ConfigureTestServices = s => s.AddSingleton<TimeProvider>(clock),
        };
        using var client = factory.CreateClient();

        var first = await Json.ReadAsync(await Json.GetAsync(client, "/api/metrics"));
        await SeedAsync(connectionString);
        clock.Advance(TimeSpan.FromSeconds(59));
        using var cachedResponse = await Json.GetAsync(client, "/api/metrics");
        var cached = await Json.ReadAsync(cachedResponse);
        clock.Advance(TimeSpan.FromSeconds(2));
        var recomputed = await Json.ReadAsync(await Json.GetAsync(client, "/api/metrics"));

        Assert.Equal(0, first.GetProperty("tasks").GetProperty("total").GetInt64());
        Assert.Equal(0, cached.GetProperty("tasks").GetProperty("total").GetInt64());
        Assert.Equal(59, cached.GetProperty("ageSeconds").GetDouble());
        Assert.Equal(TimeSpan.FromSeconds(59), cachedResponse.Headers.Age);
        Assert.Equal(6, recomputed.GetProperty("tasks").GetProperty("total").GetInt64());
        Assert.Equal(0, recomputed.GetProperty("ageSeconds").GetDouble());
    }

    [Fact]
    public async Task Metrics_DatabaseDown_ServesTheLastSnapshotMarkedStale_WithoutOne_Returns503()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var factory = new ContentServiceFactory(server.ConnectionString, settings: Settings(server.ConnectionString))
        {
            ConfigureTestServices = s => s.AddSingleton<TimeProvider>(clock),
        };
        using var client = factory.CreateClient();
        await Json.ReadAsync(await Json.GetAsync(client, "/api/metrics"));
        await server.PauseAsync();
        clock.Advance(TimeSpan.FromSeconds(90));

        using var staleResponse = await Json.GetAsync(client, "/api/metrics");
        var stale = await Json.ReadAsync(staleResponse);
        clock.Advance(TimeSpan.FromHours(2));
        using var tooOld = await Json.GetAsync(client, "/api/metrics");

        Assert.True(stale.GetProperty("stale").GetBoolean());
        Assert.Equal(90, stale.GetProperty("ageSeconds").GetDouble());
        Assert.Contains("database", stale.GetProperty("staleReason").GetString(), StringComparison.Ordinal);
        await Problem.AssertAsync(tooOld, HttpStatusCode.ServiceUnavailable, "ERR_DB_UNAVAILABLE");
    }

    private static async Task SeedAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("""
            INSERT INTO content_tasks (id, topic, status) SELECT gen_random_uuid(), 'seed', s
                FROM unnest(ARRAY['completed','completed','completed','failed','pending','cancelled']) AS s;
            INSERT INTO task_costs (task_id, provider, tokens, cost_usd, created_at)
                SELECT id, p, 100, c, now() - a FROM (SELECT id FROM content_tasks LIMIT 1) t,
                (VALUES ('budget', 0.25, interval '1 day'), ('premium', 1.0, interval '2 days'), ('premium', 0.5, interval '29 days'),
                        ('premium', 9.0, interval '31 days')) AS v(p, c, a);
            """);
        await command.ExecuteNonQueryAsync();
    }
}
