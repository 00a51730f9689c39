using System.Net;
using System.Text.Json;
using ContentService.Database;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Resilience.Testing;

namespace ContentService.Tests;

[Collection(PostgresTests.Name)]
public sealed class HealthTests(PostgresFixture postgres)
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

    private static ContentServiceFactory CreateFactory(string connectionString) => new(connectionString);
}
