using System.Net;
using System.Text.Json;
using ContentService.Database;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Resilience.Testing;

namespace ContentService.Tests;

public sealed class HealthTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Startup_MigratesSchema_AndReadyAnswers200()
    {
        await using var factory = CreateFactory(postgres.ConnectionString);
        using var client = factory.CreateClient();

        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var tables = dataSource.CreateCommand("SELECT count(*) FROM information_schema.tables WHERE table_name IN ('content_tasks','content','task_costs')");
        Assert.Equal(3L, await tables.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Migrate_RunTwice_IsIdempotent()
    {
        await using var factory = CreateFactory(postgres.ConnectionString);
        using var client = factory.CreateClient();
        var migrator = factory.Services.GetRequiredService<SchemaMigrator>();

        var appliedAgain = await migrator.MigrateAsync(CancellationToken.None);

        Assert.Equal(0, appliedAgain);
        await using var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
        await using var versions = dataSource.CreateCommand("SELECT count(*) FROM schema_migrations");
        Assert.Equal((long)SchemaMigrator.LoadScripts().Count, await versions.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Ready_DatabaseUnreachable_Answers503_LiveStays200()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var factory = CreateFactory(server.ConnectionString);
        using var client = factory.CreateClient();
        await server.PauseAsync();

        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    [Fact]
    public async Task Status_ListsDatabaseBreaker_AndReadyReportsEachCheck()
    {
        await using var factory = CreateFactory(postgres.ConnectionString);
        using var client = factory.CreateClient();

        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        using var readyJson = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        using var status = await client.GetAsync(new Uri("/status/data", UriKind.Relative));
        using var statusJson = JsonDocument.Parse(await status.Content.ReadAsStringAsync());

        Assert.Equal("Healthy", readyJson.RootElement.GetProperty("status").GetString());
        Assert.Equal("Healthy", readyJson.RootElement.GetProperty("checks").GetProperty("circuit-breakers").GetProperty("status").GetString());
        Assert.True(readyJson.RootElement.GetProperty("checks").TryGetProperty("postgres-pool", out _));
        var breaker = Assert.Single(statusJson.RootElement.GetProperty("breakers").EnumerateArray());
        Assert.Equal("content-db", breaker.GetProperty("name").GetString());
        Assert.Equal("closed", breaker.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Ready_OneLlmProviderOpenOthersNotCalledYet_DegradedNotUnhealthy_AllOpen_Unhealthy()
    {
        await using var factory = CreateFactory(postgres.ConnectionString);
        using var client = factory.CreateClient();
        var registry = factory.Services.GetRequiredService<Resilience.CircuitBreaking.CircuitBreakerRegistry>();
        var providers = factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ContentService.Providers.ProvidersOptions>>().Value;
        Assert.True(providers.Llm.Count > 1);

        // One provider called once (its breaker exists now), then isolated; the others were never called.
        var first = providers.Llm[0].Name;
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri("health", UriKind.Relative)))
        {
            request.Options.Set(Resilience.Http.HttpResilienceRequestOptions.AllowRetry, false);
            using var sent = await factory.Services.GetRequiredService<IHttpClientFactory>().CreateClient(ContentService.Providers.ModelRouter.ClientPrefix + first).SendAsync(request);
        }

        Resilience.Http.HttpCircuitBreakerLookup.GetHttpCircuitBreaker(registry, ContentService.Providers.ModelRouter.ClientPrefix + first, new Uri(providers.BaseUrl!, $"llm/{first}/"))!.Isolate();
        using var degraded = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        using var degradedJson = JsonDocument.Parse(await degraded.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, degraded.StatusCode);
        Assert.Equal("Degraded", degradedJson.RootElement.GetProperty("checks").GetProperty("circuit-breakers").GetProperty("status").GetString());

        foreach (var provider in providers.Llm.Skip(1))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("health", UriKind.Relative));
            request.Options.Set(Resilience.Http.HttpResilienceRequestOptions.AllowRetry, false);
            using var sent = await factory.Services.GetRequiredService<IHttpClientFactory>().CreateClient(ContentService.Providers.ModelRouter.ClientPrefix + provider.Name).SendAsync(request);
            Resilience.Http.HttpCircuitBreakerLookup.GetHttpCircuitBreaker(registry, ContentService.Providers.ModelRouter.ClientPrefix + provider.Name, new Uri(providers.BaseUrl!, $"llm/{provider.Name}/"))!.Isolate();
        }

        using var unhealthy = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unhealthy.StatusCode);
    }

    private static ContentServiceFactory CreateFactory(string connectionString) => new(connectionString);
}
