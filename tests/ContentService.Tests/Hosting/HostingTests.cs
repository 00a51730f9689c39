using System.Net;
using System.Text.Json;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;
using Resilience.Testing;

namespace ContentService.Tests.Hosting;

public sealed class HostingTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task OpenApi_DescribesEveryApiEndpoint()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?> { ["Executor:Workers"] = "0" });
        using var client = factory.CreateClient();

        using var document = JsonDocument.Parse(await (await Json.GetAsync(client, "/openapi/v1.json")).Content.ReadAsStringAsync());

        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var path in new[] { "/api/tasks", "/api/tasks/{id}", "/api/tasks/{id}/events", "/api/content", "/api/content/{id}", "/api/content/{id}/image", "/api/metrics", "/api/cms/usage", "/api/images", "/api/images/capacity", "/api/fine-tuning/jobs", "/api/fine-tuning/jobs/{id}" })
        {
            Assert.Contains(path, paths);
        }
    }

    /// <summary>
    /// Regression: the document was too thin to generate a client from (no security schemes, no Idempotency-Key, paging
    /// as strings, no 401/413/429/503, no /auth, /health or /status/data). Read with Microsoft.OpenApi's own reader.
    /// </summary>
    [Fact]
    public async Task OpenApi_ReadByMicrosoftOpenApi_HasWhatAClientGeneratorNeeds()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?> { ["Executor:Workers"] = "0" });
        using var client = factory.CreateClient();
        using var response = await Json.GetAsync(client, "/openapi/v1.json");
        await using var stream = await response.Content.ReadAsStreamAsync();

        var read = await OpenApiDocument.LoadAsync(stream, "json");

        Assert.Empty(read.Diagnostic?.Errors ?? []);
        var document = read.Document!;
        var schemes = document.Components!.SecuritySchemes!;
        Assert.Equal((SecuritySchemeType.ApiKey, ParameterLocation.Header, "X-Api-Key"), (schemes["ApiKey"].Type!.Value, schemes["ApiKey"].In!.Value, schemes["ApiKey"].Name));
        Assert.Equal((SecuritySchemeType.Http, "bearer"), (schemes["Bearer"].Type!.Value, schemes["Bearer"].Scheme));

        var create = document.Paths["/api/tasks"].Operations![HttpMethod.Post];
        Assert.Equal(2, create.Security!.Count);
        var idempotency = Assert.Single(create.Parameters!, p => p.Name == "Idempotency-Key");
        Assert.Equal(ParameterLocation.Header, idempotency.In);
        foreach (var status in new[] { "202", "401", "409", "413", "422", "429", "503" })
        {
            Assert.True(create.Responses!.ContainsKey(status), $"POST /api/tasks does not document {status}");
        }

        var list = document.Paths["/api/tasks"].Operations![HttpMethod.Get];
        foreach (var name in new[] { "page", "pageSize" })
        {
            Assert.True(Assert.Single(list.Parameters!, p => p.Name == name).Schema!.Type!.Value.HasFlag(JsonSchemaType.Integer), $"{name} is not an integer");
        }

        Assert.Null(list.Security);
        Assert.True(list.Responses!.ContainsKey("429"));
        Assert.Equal((SecuritySchemeType.ApiKey, ParameterLocation.Header, "X-Admin-Key"), (schemes["AdminKey"].Type!.Value, schemes["AdminKey"].In!.Value, schemes["AdminKey"].Name));
        var rotate = document.Paths["/admin/keys/{id}/rotate"].Operations![HttpMethod.Post];
        Assert.Single(rotate.Security!);
        foreach (var status in new[] { "200", "401", "404", "409", "422", "429", "503" })
        {
            Assert.True(rotate.Responses!.ContainsKey(status), $"POST /admin/keys/{{id}}/rotate does not document {status}");
        }

        foreach (var path in new[] { "/auth/signin", "/auth/callback", "/auth/refresh", "/admin/keys", "/admin/keys/{id}/revoke", "/admin/usage", "/health/live", "/health/ready", "/status/data" })
        {
            Assert.True(document.Paths.ContainsKey(path), $"{path} is missing");
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

        var line = Assert.Single(logs.Entries, e => e.EventId.Id == 1000 && e.Message.StartsWith("Database 'content-db'", StringComparison.Ordinal)).Message;
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
    [InlineData("FineTuning:Deadline", "00:00:00", "FineTuning:Deadline")]
    [InlineData("FineTuning:Trainer", "no-such-trainer.sh", "FineTuning:Trainer")]
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
