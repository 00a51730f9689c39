using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Resilience.Testing;

namespace ContentService.Tests.Events;

public sealed class TaskEventsTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private ServiceHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await ServiceHarness.StartAsync(postgres.ConnectionString);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Events_StreamStageAndProgress_RunByAnotherInstance_UntilCompleted()
    {
        // The stream is served by an API-only instance; another instance's executor runs the task.
        var api = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "0", ["Events:PollInterval"] = "00:00:00.050" });
        await _harness.Providers.SetFaultAsync("local", """{"latencyMs":200}""");
        var id = await ServiceHarness.CreateTaskAsync(api, new { topic = "Watch me" });
        using var client = api.CreateClient();
        using var response = await client.GetAsync(new Uri($"/api/tasks/{id}/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();

        _harness.AddInstance();
        var events = new List<(string Type, string Status, string Stage, int Progress)>();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync())
        {
            using var json = JsonDocument.Parse(item.Data);
            events.Add((item.EventType, json.RootElement.GetProperty("status").GetString()!, json.RootElement.GetProperty("stage").GetString()!, json.RootElement.GetProperty("progress").GetInt32()));
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("progress", "pending", "queued", 0), events[0]);
        Assert.Equal(("completed", "completed", "done", 100), events[^1]);
        Assert.Contains(events, e => e.Stage == "generate");
        Assert.Equal(events.Select(e => e.Progress).Order(), events.Select(e => e.Progress));
    }

    [Fact]
    public async Task Events_CarryIds_LastEventIdResumesWithoutRepeating_AndAFinishedTaskAnswers204()
    {
        var api = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "0", ["Events:PollInterval"] = "00:00:00.050" });
        var id = await ServiceHarness.CreateTaskAsync(api, new { topic = "Resume me" });
        using var client = api.CreateWriter();

        var (pendingId, pendingType) = await FirstEventAsync(client, id, lastEventId: null);
        var resumed = FirstEventAsync(client, id, lastEventId: pendingId);
        var streams = api.Services.GetRequiredService<ContentService.Events.EventStreamLimiter>();
        while (streams.Open == 0 && !resumed.IsCompleted)
        {
            // The resumed stream holds its slot before it reads the task: the cancel comes after, as a change.
            await Task.Yield();
        }

        (await Json.DeleteAsync(client, $"/api/tasks/{id}")).Dispose();
        var (cancelledId, cancelledType) = await resumed;
        var (afterMissing, _) = await FirstEventAsync(client, id, lastEventId: pendingId);
        using var finished = await EventsAsync(client, id, cancelledId);

        Assert.Equal("progress", pendingType);
        Assert.False(string.IsNullOrEmpty(pendingId));
        // Resumed with the current state's id, the stream sent nothing until the task changed, then the change.
        Assert.Equal("cancelled", cancelledType);
        Assert.NotEqual(pendingId, cancelledId);
        // A client that missed the change gets the current state at once.
        Assert.Equal(cancelledId, afterMissing);
        Assert.Equal(HttpStatusCode.NoContent, finished.StatusCode);
    }

    private static async Task<HttpResponseMessage> EventsAsync(HttpClient client, Guid id, string? lastEventId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/tasks/{id}/events", UriKind.Relative));
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>Opens the stream, returns its first event's id and type, and closes it.</summary>
    private static async Task<(string Id, string Type)> FirstEventAsync(HttpClient client, Guid id, string? lastEventId)
    {
        using var response = await EventsAsync(client, id, lastEventId);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var stream = await response.Content.ReadAsStreamAsync();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync())
        {
            return (item.EventId ?? "", item.EventType);
        }

        throw new Xunit.Sdk.XunitException("the stream ended without an event");
    }

    [Fact]
    public async Task Events_PerClientAndGlobalConnectionLimits_Return429()
    {
        var api = _harness.AddInstance(new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["Events:MaxConnectionsPerClient"] = "1",
            ["Events:MaxConnections"] = "2",
            ["Security:ApiKeys:alice"] = "alice-key-0123456789",
            ["Security:ApiKeys:bob"] = "bob-key-0123456789ab",
            ["Security:ApiKeys:carol"] = "carol-key-0123456789",
        });
        var id = await ServiceHarness.CreateTaskAsync(api, new { topic = "Popular task" });
        var url = new Uri($"/api/tasks/{id}/events", UriKind.Relative);
        using var alice = Client(api, "alice-key-0123456789");
        using var bob = Client(api, "bob-key-0123456789ab");
        using var carol = Client(api, "carol-key-0123456789");

        using var aliceFirst = await alice.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        using var aliceSecond = await alice.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        using var bobFirst = await bob.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        using var carolFirst = await carol.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, aliceFirst.StatusCode);
        await Problem.AssertAsync(aliceSecond, HttpStatusCode.TooManyRequests, "ERR_RATE_LIMITED");
        Assert.NotNull(aliceSecond.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, bobFirst.StatusCode);
        await Problem.AssertAsync(carolFirst, HttpStatusCode.TooManyRequests, "ERR_RATE_LIMITED");
    }

    [Fact]
    public async Task Events_NoChangeForTheIdleTimeout_StreamEndsWithIdleTimeoutEvent_AndFreesItsSlot()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var api = _harness.AddInstance(
            new Dictionary<string, string?> { ["Executor:Workers"] = "0", ["Events:IdleTimeout"] = "00:00:30", ["Events:PollInterval"] = "00:00:10", ["Events:MaxConnectionsPerClient"] = "1" },
            s => s.AddSingleton<TimeProvider>(clock));
        var id = await ServiceHarness.CreateTaskAsync(api, new { topic = "Nothing happens" });
        using var client = api.CreateClient();
        var url = new Uri($"/api/tasks/{id}/events", UriKind.Relative);
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        await using var events = SseParser.Create(stream).EnumerateAsync().GetAsyncEnumerator();

        Assert.True(await events.MoveNextAsync());

        // Whether the stream's poll timer is armed before or after this, it measures idleness on this clock.
        clock.Advance(TimeSpan.FromSeconds(30));

        Assert.True(await events.MoveNextAsync());
        Assert.Equal("idle-timeout", events.Current.EventType);
        Assert.False(await events.MoveNextAsync());
        using var again = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Events_DatabaseOutageWhileStreaming_StreamStaysOpen_AndDeliversTheNextChange()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var api = new ContentServiceFactory(server.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["Events:PollInterval"] = "00:00:00.050",
            ["Database:Retry:MaxRetries"] = "0",
        });
        var id = await ServiceHarness.CreateTaskAsync(api, new { topic = "Outlives an outage" });
        using var client = api.CreateClient();
        using var response = await client.GetAsync(new Uri($"/api/tasks/{id}/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        await using var events = SseParser.Create(stream).EnumerateAsync().GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync());

        // Polls during the outage fail; the stream must neither end nor break.
        await server.PauseAsync();
        await server.ResumeAsync();
        await using (var dataSource = Npgsql.NpgsqlDataSource.Create(server.ConnectionString))
        await using (var cancel = dataSource.CreateCommand($"UPDATE content_tasks SET status = 'cancelled', stage = 'cancelled' WHERE id = '{id}'"))
        {
            await cancel.ExecuteNonQueryAsync();
        }

        Assert.True(await events.MoveNextAsync());
        Assert.Equal("cancelled", events.Current.EventType);
        Assert.False(await events.MoveNextAsync());
    }

    [Fact]
    public async Task Events_UnknownTask_Returns404_MalformedId_Returns422()
    {
        var api = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "0" });
        using var client = api.CreateClient();

        using var unknown = await client.GetAsync(new Uri($"/api/tasks/{Guid.NewGuid()}/events", UriKind.Relative));
        using var malformed = await client.GetAsync(new Uri("/api/tasks/nope/events", UriKind.Relative));

        await Problem.AssertAsync(unknown, HttpStatusCode.NotFound, "ERR_NOT_FOUND");
        await Problem.AssertAsync(malformed, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "id");
    }

    private static HttpClient Client(ContentServiceFactory factory, string key)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }
}
