using System.Net;
using ContentService.Errors;
using ContentService.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Npgsql;
using Resilience.Failures;
using Resilience.Npgsql;
using Resilience.Testing;

namespace ContentService.Tests.Errors;

[Collection(PostgresTests.Name)]
public sealed class ErrorResponseTests(PostgresFixture postgres)
{
    private static readonly Dictionary<string, string?> NoExecutor = new() { ["Executor:Workers"] = "0" };

    [Fact]
    public async Task DatabaseDown_ReadsAndWrites_Return503DbUnavailableWithRetryAfter_NeverNotFound()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var factory = new ContentServiceFactory(server.ConnectionString, settings: NoExecutor);
        using var client = factory.CreateWriter();
        using var created = await Json.PostAsync(client, "/api/tasks", new { topic = "Before the outage" });
        var id = (await Json.ReadAsync(created)).GetProperty("id").GetGuid();
        await server.PauseAsync();

        using var get = await Json.GetAsync(client, $"/api/tasks/{id}");
        using var list = await Json.GetAsync(client, "/api/tasks");
        using var post = await Json.PostAsync(client, "/api/tasks", new { topic = "During the outage" });

        foreach (var response in new[] { get, list, post })
        {
            await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "ERR_DB_UNAVAILABLE");
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is missing");
        }
    }

    [Fact]
    public async Task UnexpectedDatabaseError_Returns500Internal_WithNothingInternalInTheBody()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: NoExecutor);
        using var client = factory.CreateClient();
        _ = factory.Services;
        await ExecuteSqlAsync(connectionString, "ALTER TABLE content_tasks RENAME COLUMN topic TO topic_renamed");

        using var response = await Json.GetAsync(client, $"/api/tasks/{Guid.NewGuid()}");

        var body = (await Problem.AssertAsync(response, HttpStatusCode.InternalServerError, "ERR_INTERNAL")).GetRawText();
        foreach (var secret in new[] { "topic", "SELECT", "content_tasks", "42703", "Npgsql", "Host=", "at ContentService" })
        {
            Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task QueryTimeout_Returns504Timeout()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["Database:QueryTimeouts:StatementTimeout"] = "00:00:01",
            ["Database:QueryTimeouts:LockTimeout"] = "00:00:01", // equal: PostgreSQL then reports the statement timeout
        });
        using var client = factory.CreateClient();
        _ = factory.Services;
        await using var tableLock = await TableLock.TakeAsync(connectionString, "content_tasks");

        using var response = await Json.GetAsync(client, "/api/tasks");

        await Problem.AssertAsync(response, HttpStatusCode.GatewayTimeout, "ERR_TIMEOUT");
    }

    [Fact]
    public void Map_UnknownOutcome_Is503TellingTheClientToCheckFirst()
    {
        var exception = new DatabaseException("lost commit acknowledgement", FailureKind.UnknownOutcome, ErrorIds.UnknownOutcome, null, false, null);

        var (status, errorId, title, _, retryAfter) = ApiExceptionHandler.Map(exception, new DefaultHttpContext());

        Assert.Equal(503, status);
        Assert.Equal("ERR_UNKNOWN_OUTCOME", errorId);
        Assert.Contains("check", title, StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(retryAfter);
    }

    [Fact]
    public async Task UnknownRoute_Returns404ProblemWithErrorId()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: NoExecutor);
        using var client = factory.CreateClient();

        using var response = await Json.GetAsync(client, "/api/nothing-here");

        await Problem.AssertAsync(response, HttpStatusCode.NotFound, "ERR_NOT_FOUND");
    }

    private static async Task ExecuteSqlAsync(string connectionString, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
