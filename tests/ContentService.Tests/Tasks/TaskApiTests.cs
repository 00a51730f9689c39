using System.Net;
using System.Net.Http.Json;
using ContentService.Tests.Infrastructure;
using Npgsql;
using Resilience.Testing;

namespace ContentService.Tests.Tasks;

/// <summary>The tasks API with the executor off (Executor:Workers = 0), so tasks stay where the test puts them.</summary>
public sealed class TaskApiTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private ContentServiceFactory _factory = null!;
    private string _connectionString = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        _factory = new ContentServiceFactory(_connectionString, settings: new Dictionary<string, string?> { ["Executor:Workers"] = "0" });
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Create_ValidBody_Returns202WithLocation_AndGetReturnsThePendingTask()
    {
        using var client = _factory.CreateWriter();

        using var created = await Json.PostAsync(client, "/api/tasks", new { topic = "Circuit breakers", style = "technical", targetLength = 400, complexity = "medium" });
        var task = await Json.ReadAsync(created);
        using var fetched = await Json.GetAsync(client, created.Headers.Location!.ToString());
        var again = await Json.ReadAsync(fetched);

        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        Assert.Equal($"/api/tasks/{task.GetProperty("id").GetGuid()}", created.Headers.Location!.ToString());
        Assert.Equal("pending", again.GetProperty("status").GetString());
        Assert.Equal("queued", again.GetProperty("stage").GetString());
        Assert.Equal("Circuit breakers", again.GetProperty("topic").GetString());
        Assert.Equal(400, again.GetProperty("targetLength").GetInt32());
        Assert.Equal("medium", again.GetProperty("complexity").GetString());
    }

    [Fact]
    public async Task Create_SameIdempotencyKeyAndBody_ReturnsTheSameTask_CreatedOnce()
    {
        using var client = _factory.CreateWriter();
        var body = new { topic = "Retry budgets" };

        using var first = await Json.PostAsync(client, "/api/tasks", body, idempotencyKey: "order-42");
        using var second = await Json.PostAsync(client, "/api/tasks", body, idempotencyKey: "order-42");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal((await Json.ReadAsync(first)).GetProperty("id").GetGuid(), (await Json.ReadAsync(second)).GetProperty("id").GetGuid());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(1L, await CountTasksAsync());
    }

    [Fact]
    public async Task Create_UsedIdempotencyKeyWithOtherBody_Returns409AlreadyExists()
    {
        using var client = _factory.CreateWriter();

        using var first = await Json.PostAsync(client, "/api/tasks", new { topic = "Retry budgets" }, idempotencyKey: "order-43");
        using var second = await Json.PostAsync(client, "/api/tasks", new { topic = "Something else" }, idempotencyKey: "order-43");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        await Problem.AssertAsync(second, HttpStatusCode.Conflict, "ERR_ALREADY_EXISTS");
        Assert.Equal(1L, await CountTasksAsync());
    }

    [Theory]
    [InlineData("{}", "topic")]
    [InlineData("{\"topic\":\"ok topic\",\"targetLength\":\"long\"}", "targetLength")]
    [InlineData("{\"topic\":\"ok topic\",\"targetLength\":10}", "targetLength")]
    [InlineData("{\"topic\":\"ok topic\",\"complexity\":\"extreme\"}", "complexity")]
    [InlineData("{\"topic\":\"ok topic\",\"style\":\"shouting\"}", "style")]
    [InlineData("{not json", "body")]
    public async Task Create_InvalidBody_Returns422NamingTheField(string body, string field)
    {
        using var client = _factory.CreateWriter();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");

        using var response = await client.PostAsync(new Uri("/api/tasks", UriKind.Relative), content);

        await Problem.AssertAsync(response, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", field);
        Assert.Equal(0L, await CountTasksAsync());
    }

    [Fact]
    public async Task Get_MalformedId_Returns422NamingId_UnknownId_Returns404()
    {
        using var client = _factory.CreateClient();

        using var malformed = await Json.GetAsync(client, "/api/tasks/not-a-uuid");
        using var unknown = await Json.GetAsync(client, $"/api/tasks/{Guid.NewGuid()}");

        await Problem.AssertAsync(malformed, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "id");
        await Problem.AssertAsync(unknown, HttpStatusCode.NotFound, "ERR_NOT_FOUND");
    }

    [Fact]
    public async Task List_FiltersByStatus_PagesInAStableOrderWithoutOverlap()
    {
        using var client = _factory.CreateWriter();
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            using var created = await Json.PostAsync(client, "/api/tasks", new { topic = $"Topic {i}" });
            ids.Add((await Json.ReadAsync(created)).GetProperty("id").GetGuid());
        }

        using var cancel = await Json.DeleteAsync(client, $"/api/tasks/{ids[0]}");
        using var page1 = await Json.GetAsync(client, "/api/tasks?status=pending&page=1&pageSize=2");
        using var page2 = await Json.GetAsync(client, "/api/tasks?status=pending&page=2&pageSize=2");
        using var page3 = await Json.GetAsync(client, "/api/tasks?status=pending&page=3&pageSize=2");
        using var cancelled = await Json.GetAsync(client, "/api/tasks?status=cancelled");
        var listed = new List<Guid>();
        foreach (var page in new[] { page1, page2, page3 })
        {
            var json = await Json.ReadAsync(page);
            Assert.Equal(4, json.GetProperty("total").GetInt64());
            listed.AddRange(json.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("id").GetGuid()));
        }

        Assert.Equal(ids.Skip(1).Reverse(), listed);
        Assert.Equal(ids[0], Assert.Single((await Json.ReadAsync(cancelled)).GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
    }

    [Theory]
    [InlineData("?pageSize=101", "pageSize")]
    [InlineData("?pageSize=0", "pageSize")]
    [InlineData("?page=0", "page")]
    [InlineData("?page=x", "page")]
    [InlineData("?status=sleeping", "status")]
    public async Task List_BadQuery_Returns422NamingTheParameter(string query, string field)
    {
        using var client = _factory.CreateClient();

        using var response = await Json.GetAsync(client, "/api/tasks" + query);

        await Problem.AssertAsync(response, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", field);
    }

    [Fact]
    public async Task Cancel_PendingTask_IsCancelled_Twice_StillCancelled_FinishedTask_Returns409()
    {
        using var client = _factory.CreateWriter();
        using var created = await Json.PostAsync(client, "/api/tasks", new { topic = "Cancel me" });
        var id = (await Json.ReadAsync(created)).GetProperty("id").GetGuid();
        using var created2 = await Json.PostAsync(client, "/api/tasks", new { topic = "Finished" });
        var finished = (await Json.ReadAsync(created2)).GetProperty("id").GetGuid();
        await ExecuteSqlAsync($"UPDATE content_tasks SET status = 'completed' WHERE id = '{finished}'");

        using var first = await Json.DeleteAsync(client, $"/api/tasks/{id}");
        using var second = await Json.DeleteAsync(client, $"/api/tasks/{id}");
        using var done = await Json.DeleteAsync(client, $"/api/tasks/{finished}");
        using var unknown = await Json.DeleteAsync(client, $"/api/tasks/{Guid.NewGuid()}");

        Assert.Equal("cancelled", (await Json.ReadAsync(first)).GetProperty("status").GetString());
        Assert.Equal("cancelled", (await Json.ReadAsync(second)).GetProperty("status").GetString());
        await Problem.AssertAsync(done, HttpStatusCode.Conflict, "ERR_INVALID_STATE");
        await Problem.AssertAsync(unknown, HttpStatusCode.NotFound, "ERR_NOT_FOUND");
    }

    [Fact]
    public async Task Writes_WithoutOrWithWrongApiKey_Return401_AndCreateNothing()
    {
        using var anonymous = _factory.CreateClient();
        using var wrong = _factory.CreateClient();
        wrong.DefaultRequestHeaders.Add("X-Api-Key", "wrong-key-0123456789");

        using var noKey = await Json.PostAsync(anonymous, "/api/tasks", new { topic = "Sneaky" });
        using var badKey = await Json.PostAsync(wrong, "/api/tasks", new { topic = "Sneaky" });
        using var noKeyDelete = await Json.DeleteAsync(anonymous, $"/api/tasks/{Guid.NewGuid()}");

        await Problem.AssertAsync(noKey, HttpStatusCode.Unauthorized, "ERR_UNAUTHORIZED");
        await Problem.AssertAsync(badKey, HttpStatusCode.Unauthorized, "ERR_UNAUTHORIZED");
        await Problem.AssertAsync(noKeyDelete, HttpStatusCode.Unauthorized, "ERR_UNAUTHORIZED");
        Assert.Equal(0L, await CountTasksAsync());
    }

    [Fact]
    public async Task Create_BearerToken_IsAcceptedAsApiKey()
    {
        using var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ContentServiceFactory.ApiKey);

        using var response = await client.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { topic = "Bearer" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task<long> CountTasksAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(_connectionString);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM content_tasks");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteSqlAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(_connectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
