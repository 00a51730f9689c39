using System.Net;
using System.Text.Json;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Resilience.Testing;

namespace ContentService.Tests.Hosting;

[Collection(PostgresTests.Name)]
public sealed class HostingTests(PostgresFixture postgres)
{
    [Fact]
    public async Task OpenApi_DescribesEveryApiEndpoint()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?> { ["Executor:Workers"] = "0" });
        using var client = factory.CreateClient();

        using var document = JsonDocument.Parse(await (await Json.GetAsync(client, "/openapi/v1.json")).Content.ReadAsStringAsync());

        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var path in new[] { "/api/tasks", "/api/tasks/{id}", "/api/tasks/{id}/events", "/api/content", "/api/content/{id}", "/api/content/{id}/image", "/api/metrics" })
        {
            Assert.Contains(path, paths);
        }
    }

    /// <summary>Regression: the log said "opens after 5 failures" while the database breaker ran in failure-ratio mode.</summary>
    [Fact]
    public async Task Startup_DatabaseBreakerInRatioMode_LogSaysWhatOpensIt()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        var logs = new CapturingLogger();
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?> { ["Executor:Workers"] = "0" })
        {
            ConfigureTestServices = s => s.AddSingleton<ILoggerProvider>(logs),
        };
        using var client = factory.CreateClient();
        using var live = await Json.GetAsync(client, "/health/live");

        var line = Assert.Single(logs.Entries, e => e.Message.StartsWith("Database 'content-db'", StringComparison.Ordinal)).Message;
        Assert.Contains("breaker opens when at least 50% of at least", line, StringComparison.Ordinal);
        Assert.DoesNotContain("after 5 failures", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Providers:BaseUrl", "not a url", "Providers:BaseUrl")]
    [InlineData("Providers:Llm:0:MaxComplexity", "extreme", "Providers:Llm:0:MaxComplexity")]
    [InlineData("Executor:Workers", "-1", "Executor:Workers")]
    [InlineData("Executor:Deadline:Limit", "00:00:00", "Executor:Deadline:")]
    [InlineData("Events:MaxConnectionsPerClient", "0", "Events:MaxConnectionsPerClient")]
    [InlineData("Metrics:CacheDuration", "02:00:00", "Metrics:CacheDuration")]
    public async Task Startup_BadOption_StopsTheHostNamingIt(string key, string value, string named)
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?> { [key] = value });

        var error = Assert.ThrowsAny<Exception>(() => factory.Services);

        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_EveryLlmProviderBreakerOpen_Answers503()
    {
        await using var harness = await ServiceHarness.StartAsync(postgres.ConnectionString);
        var service = harness.AddInstance();
        foreach (var provider in new[] { "local", "budget", "premium" })
        {
            await harness.Providers.SetFaultAsync(provider, """{"outage":true}""");
        }

        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "Breaks every breaker", complexity = "low" });
        await harness.WaitForStatusAsync(id, "failed");
        using var client = service.CreateClient();
        using var ready = await Json.GetAsync(client, "/health/ready");
        using var live = await Json.GetAsync(client, "/health/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("every LLM provider", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
