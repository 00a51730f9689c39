using System.Net.Http.Json;
using ContentService.Tests.Infrastructure;
using Resilience.Chaos.Reporting;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Chaos.Service;

/// <summary>
/// Content service, bad input: table-driven requests to every endpoint — malformed UUIDs, wrong types, missing fields,
/// huge bodies, invalid JSON, SQL-ish strings, unicode edge cases, negative and huge paging, missing or wrong API key,
/// too many event streams. Every one must answer 4xx with an error ID, never 5xx, with nothing internal in the body,
/// and leave every table of the database as it was. The content service, in-process on a real PostgreSQL.
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class ServiceBadInputTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Executor:Workers"] = "0",
        ["Events:MaxConnectionsPerClient"] = "1",
    };

    [Fact]
    public async Task BadInput_EveryEndpoint_4xxWithErrorIdNothingInternalDataUnchanged()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: Settings);
        using var client = factory.CreateClient();
        using var seeded = await client.SendAsync(new ServiceRequest("seed", HttpMethod.Post, "/api/tasks", "{\"topic\":\"A valid topic\"}").ToMessage(ContentServiceFactory.ApiKey));
        Assert.True(seeded.IsSuccessStatusCode, $"seeding a task failed: {(int)seeded.StatusCode}");
        var taskId = (await seeded.Content.ReadFromJsonAsync<IdOnly>())!.Id;
        var before = await DatabaseFingerprint.TakeAsync(connectionString);

        var answers = new List<ServiceAnswer>();
        foreach (var request in Requests(taskId))
        {
            using var message = request.ToMessage(ContentServiceFactory.ApiKey);
            using var response = await client.SendAsync(message);
            answers.Add(await ServiceAnswer.ReadAsync(request.Case, response));
        }

        answers.Add(await TooManyEventStreamsAsync(client, taskId));
        var after = await DatabaseFingerprint.TakeAsync(connectionString);

        var table = new FigureTable("Content service — bad input (every endpoint, in-process, real PostgreSQL)", "request", "status", "error ID", "internal detail in body");
        foreach (var a in answers)
        {
            table.Row(a.Case, a.Status, a.ErrorId, a.Leak ?? "none");
        }

        // The audit log of key use records every authenticated request, refused ones too: that is its job, not a change of data.
        var changed = before.Where(t => t.Key != "api_key_usage" && (!after.TryGetValue(t.Key, out var print) || print != t.Value)).Select(static t => t.Key).ToList();
        table.Note($"{answers.Count} requests; 5xx: {answers.Count(static a => a.Status >= 500)}; without error ID: {answers.Count(static a => a.ErrorId is null)}; " +
            $"tables changed: {(changed.Count == 0 ? "none" : string.Join(", ", changed))} (of {before.Count}).");
        table.Print(output);

        Assert.All(answers, static a =>
        {
            Assert.True(a.Status is >= 400 and < 500, $"{a.Case}: answered {a.Status}");
            Assert.True(a.ErrorId is { Length: > 0 }, $"{a.Case}: {a.Status} without an error ID");
            Assert.True(a.Leak is null, $"{a.Case}: the body gives away \"{a.Leak}\"");
        });
        Assert.Empty(changed);
    }

    [Fact]
    public async Task CreateTask_ExtraFields_422WithErrorIdAndNoTask()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: Settings);
        using var client = factory.CreateClient();
        var before = await DatabaseFingerprint.TakeAsync(connectionString);

        using var message = new ServiceRequest("extra fields", HttpMethod.Post, "/api/tasks", "{\"topic\":\"A valid topic\",\"isAdmin\":true,\"status\":\"completed\"}").ToMessage(ContentServiceFactory.ApiKey);
        using var response = await client.SendAsync(message);
        var answer = await ServiceAnswer.ReadAsync("extra fields", response);

        Assert.True(answer.Status is >= 400 and < 500 && answer.ErrorId is not null, $"answered {answer.Status} ({answer.ErrorId})");
        Assert.Equal(before, await DatabaseFingerprint.TakeAsync(connectionString));
    }

    private static IEnumerable<ServiceRequest> Requests(Guid task)
    {
        var unknown = Guid.NewGuid();
        var post = HttpMethod.Post;
        var get = HttpMethod.Get;
        var delete = HttpMethod.Delete;
        const string Valid = "{\"topic\":\"A valid topic\"}";

        // Keys.
        yield return new("POST task, no API key", post, "/api/tasks", Valid, WithKey: false);
        yield return new("POST task, wrong API key", post, "/api/tasks", Valid, ApiKey: "fake-wrong-key-000000000000");
        yield return new("POST task, empty API key", post, "/api/tasks", Valid, ApiKey: "");
        yield return new("DELETE task, no API key", delete, $"/api/tasks/{task}", WithKey: false);
        yield return new("DELETE content, no API key", delete, $"/api/content/{unknown}", WithKey: false);
        yield return new("POST image, no API key", post, $"/api/content/{unknown}/image", "x", WithKey: false, ContentType: "image/png");

        // Bodies.
        yield return new("POST task, empty body", post, "/api/tasks", "");
        yield return new("POST task, invalid JSON", post, "/api/tasks", "{\"topic\":");
        yield return new("POST task, JSON array", post, "/api/tasks", "[]");
        yield return new("POST task, JSON null", post, "/api/tasks", "null");
        yield return new("POST task, topic is a number", post, "/api/tasks", "{\"topic\":123}");
        yield return new("POST task, targetLength is a string", post, "/api/tasks", "{\"topic\":\"A valid topic\",\"targetLength\":\"long\"}");
        yield return new("POST task, targetLength 1e400", post, "/api/tasks", "{\"topic\":\"A valid topic\",\"targetLength\":1e400}");
        yield return new("POST task, targetLength negative", post, "/api/tasks", "{\"topic\":\"A valid topic\",\"targetLength\":-5}");
        yield return new("POST task, topic missing", post, "/api/tasks", "{}");
        yield return new("POST task, topic null", post, "/api/tasks", "{\"topic\":null}");
        yield return new("POST task, topic too short", post, "/api/tasks", "{\"topic\":\"ab\"}");
        yield return new("POST task, topic 501 characters", post, "/api/tasks", "{\"topic\":\"" + new string('a', 501) + "\"}");
        yield return new("POST task, SQL in style", post, "/api/tasks", "{\"topic\":\"A valid topic\",\"style\":\"'; DROP TABLE content_tasks; --\"}");
        yield return new("POST task, NUL characters in topic", post, "/api/tasks", "{\"topic\":\"\\u0000\\u0000 nul topic\"}");
        yield return new("POST task, lone surrogate in topic", post, "/api/tasks", "{\"topic\":\"\\ud800 lone surrogate\"}");
        yield return new("POST task, invalid UTF-8 bytes", post, "/api/tasks", RawBody: [.. "{\"topic\":\"ab"u8, 0xC3, 0x28, .. " bad utf8\"}"u8]);
        yield return new("POST task, text/plain body", post, "/api/tasks", "topic=A valid topic", ContentType: "text/plain");
        yield return new("POST task, 1 MB body", post, "/api/tasks", "{\"topic\":\"" + new string('a', 1024 * 1024) + "\"}");
        yield return new("POST task, 50,000-deep JSON", post, "/api/tasks", new string('[', 50_000) + new string(']', 50_000));
        yield return new("POST task, Idempotency-Key with spaces", post, "/api/tasks", Valid, IdempotencyKey: "has spaces in it");
        yield return new("POST task, Idempotency-Key 201 characters", post, "/api/tasks", Valid, IdempotencyKey: new string('k', 201));

        // Ids.
        yield return new("GET task, not a UUID", get, "/api/tasks/not-a-uuid");
        yield return new("GET task, SQL as id", get, "/api/tasks/1'%20OR%20'1'='1");
        yield return new("GET task, emoji as id", get, "/api/tasks/%F0%9F%98%80");
        yield return new("GET task, right-to-left override in id", get, "/api/tasks/%E2%80%AEabc");
        yield return new("GET task, unknown UUID", get, $"/api/tasks/{unknown}");
        yield return new("DELETE task, not a UUID", delete, "/api/tasks/not-a-uuid");
        yield return new("DELETE task, unknown UUID", delete, $"/api/tasks/{unknown}");
        yield return new("GET content, not a UUID", get, "/api/content/not-a-uuid");
        yield return new("GET content, unknown UUID", get, $"/api/content/{unknown}");
        yield return new("DELETE content, not a UUID", delete, "/api/content/not-a-uuid");
        yield return new("DELETE content, unknown UUID", delete, $"/api/content/{unknown}");
        yield return new("POST image, content not a UUID", post, "/api/content/not-a-uuid/image", "x", ContentType: "image/png");
        yield return new("POST image, unknown content", post, $"/api/content/{unknown}/image", "x", ContentType: "image/png");
        yield return new("POST image, not an image", post, $"/api/content/{unknown}/image", "<html/>", ContentType: "text/html");
        yield return new("GET events, not a UUID", get, "/api/tasks/not-a-uuid/events");
        yield return new("GET events, unknown task", get, $"/api/tasks/{unknown}/events");

        // Lists.
        yield return new("GET tasks, SQL in status", get, "/api/tasks?status=running'--");
        yield return new("GET tasks, unknown status", get, "/api/tasks?status=RUNNING");
        yield return new("GET tasks, page -1", get, "/api/tasks?page=-1");
        yield return new("GET tasks, page 0", get, "/api/tasks?page=0");
        yield return new("GET tasks, page 10^20", get, "/api/tasks?page=100000000000000000000");
        yield return new("GET tasks, pageSize 1,000,000", get, "/api/tasks?pageSize=1000000");
        yield return new("GET tasks, pageSize not a number", get, "/api/tasks?pageSize=abc");
        yield return new("GET content, page -1", get, "/api/content?page=-1");
        yield return new("GET content, pageSize NUL", get, "/api/content?pageSize=%00");
    }

    /// <summary>With one event stream allowed per client, a second one is refused while the first is open.</summary>
    private static async Task<ServiceAnswer> TooManyEventStreamsAsync(HttpClient client, Guid task)
    {
        using var first = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/tasks/{task}/events", UriKind.Relative)), HttpCompletionOption.ResponseHeadersRead);
        Assert.True(first.IsSuccessStatusCode, $"the first event stream was refused: {(int)first.StatusCode}");
        using var second = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/tasks/{task}/events", UriKind.Relative)), HttpCompletionOption.ResponseHeadersRead);
        return await ServiceAnswer.ReadAsync("GET events, second stream (limit 1 per client)", second);
    }

    private sealed record IdOnly(Guid Id);
}
