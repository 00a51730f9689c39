using ContentService.Tests.Infrastructure;
using Resilience.Chaos.Reporting;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Chaos.Service;

/// <summary>
/// Content service, security: every write without a valid key is refused and changes nothing; past the rate limit the
/// service answers 429 with <c>Retry-After</c> and an error ID. (Bad input and sanitized bodies: <see cref="ServiceBadInputTests"/>;
/// secrets in tracked files: the repository scan.)
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class ServiceSecurityTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Permits = 5;

    [Fact]
    public async Task Writes_WithoutValidKey_RefusedAndNothingWritten_RateLimit_429WithRetryAfter()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString, settings: new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["RateLimiting:PermitsPerWindow"] = Permits.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimiting:Window"] = "00:01:00",
        });
        using var client = factory.CreateClient();
        var before = await DatabaseFingerprint.TakeAsync(connectionString);

        // Writes with no key, a key with one character changed, and that key as a bearer token.
        var almost = ContentServiceFactory.ApiKey[..^1] + (ContentServiceFactory.ApiKey[^1] == 'f' ? 'e' : 'f');
        ServiceRequest[] writes =
        [
            new("POST task, no key", HttpMethod.Post, "/api/tasks", "{\"topic\":\"A valid topic\"}", WithKey: false),
            new("POST task, key off by one character", HttpMethod.Post, "/api/tasks", "{\"topic\":\"A valid topic\"}", ApiKey: almost),
        ];
        var answers = new List<ServiceAnswer>();
        foreach (var write in writes)
        {
            using var message = write.ToMessage(ContentServiceFactory.ApiKey);
            using var response = await client.SendAsync(message);
            answers.Add(await ServiceAnswer.ReadAsync(write.Case, response));
        }

        using (var bearer = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/tasks", UriKind.Relative)) { Content = new StringContent("{\"topic\":\"A valid topic\"}", System.Text.Encoding.UTF8, "application/json") })
        {
            // The service also takes the key as a bearer token; an unknown one must be refused all the same.
            bearer.Headers.TryAddWithoutValidation("Authorization", "Bearer " + almost);
            using var response = await client.SendAsync(bearer);
            answers.Add(await ServiceAnswer.ReadAsync("POST task, unknown bearer token", response));
        }

        var after = await DatabaseFingerprint.TakeAsync(connectionString);

        // Reads until the limit answers (the writes above used permits too).
        ServiceAnswer? limited = null;
        for (var i = 0; i < Permits * 3 && limited is null; i++)
        {
            using var response = await client.GetAsync(new Uri("/api/tasks", UriKind.Relative));
            var answer = await ServiceAnswer.ReadAsync($"GET tasks #{i + 1}", response);
            limited = answer.Status == 429 ? answer : null;
        }

        var table = new FigureTable("Content service — security", "request", "status", "error ID", "Retry-After", "internal detail in body");
        foreach (var a in answers.Append(limited ?? new ServiceAnswer($"GET tasks beyond {Permits} per minute", 0, null, null, null)))
        {
            table.Row(a.Case, a.Status, a.ErrorId, a.RetryAfter, a.Leak ?? "none");
        }

        var changed = before.Where(t => after[t.Key] != t.Value).Select(static t => t.Key).ToList();
        table.Note($"Tables changed by the refused writes: {(changed.Count == 0 ? "none" : string.Join(", ", changed))}.");
        table.Print(output);
        Assert.Empty(changed);
        Assert.All(answers, static a => Assert.True(a.Status == 401 && a.ErrorId == "ERR_UNAUTHORIZED", $"{a.Case}: {a.Status} {a.ErrorId}"));
        Assert.NotNull(limited);
        Assert.Equal("ERR_RATE_LIMITED", limited.ErrorId);
        Assert.False(string.IsNullOrEmpty(limited.RetryAfter), "429 without Retry-After");
    }
}
