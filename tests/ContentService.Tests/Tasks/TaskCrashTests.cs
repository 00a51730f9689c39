using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using ContentService.Tests.Infrastructure;
using Npgsql;
using System.Diagnostics;
using Resilience.Testing;
using Xunit.Abstractions;

namespace ContentService.Tests.Tasks;

/// <summary>A database crash (SIGKILL to every PostgreSQL process) while tasks are being created, on the settings the sample runs with.</summary>
public sealed class TaskCrashTests(ITestOutputHelper output)
{
    /// <summary>
    /// Regression: scripts/postgres.sh ran the sample's database with fsync, synchronous_commit and full_page_writes off,
    /// and an acknowledged task was lost in a crash. Every 202 must survive, exactly once (no retried duplicates).
    /// </summary>
    [Fact]
    public async Task CreateTask_PostgresKilledMidway_EveryAcceptedTaskPresentExactlyOnceAfterRestart()
    {
        var clock = Stopwatch.StartNew();
        await using var server = await PostgresServer.StartDedicatedAsync(durable: true);
        output.WriteLine($"{clock.Elapsed}: server started");
        var database = await TestDatabase.CreateAsync(server.ConnectionString);
        await using var service = new ContentServiceFactory(database, settings: new Dictionary<string, string?>
        {
            ["Executor:Workers"] = "0",
            ["RateLimiting:PermitsPerWindow"] = "100000",
        });
        var accepted = new ConcurrentBag<(Guid Id, string Topic)>();
        using var crashAfter = new SemaphoreSlim(0);
        using var stop = new CancellationTokenSource();
        var resumed = 0;
        var acceptedAfterRestart = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Clients (and so the host, which migrates the schema) made up front: eight hosts starting at once would race.
        var clients = Enumerable.Range(0, 8).Select(_ => service.CreateWriter()).ToArray();

        async Task WriterAsync(int writer)
        {
            using var client = clients[writer];
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var topic = $"crash test {writer}-{i}";
                using var response = await Json.PostAsync(client, "/api/tasks", new { topic });
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                    accepted.Add((body.GetProperty("id").GetGuid(), topic));
                    if (accepted.Count == 100)
                    {
                        crashAfter.Release();
                    }

                    if (Volatile.Read(ref resumed) == 1)
                    {
                        acceptedAfterRestart.TrySetResult();
                    }
                }
            }
        }

        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(() => WriterAsync(w))).ToArray();
        Assert.True(await crashAfter.WaitAsync(TimeSpan.FromSeconds(60)), "100 tasks were not accepted in 60 s");
        output.WriteLine($"{clock.Elapsed}: 100 accepted");
        server.Crash();
        var acceptedAtCrash = accepted.Count;
        output.WriteLine($"{clock.Elapsed}: crashed");

        // Writers keep going through the outage (503s) and after the restart, until the service accepts again.
        await server.ResumeAsync();
        Volatile.Write(ref resumed, 1);
        output.WriteLine($"{clock.Elapsed}: restarted");
        await acceptedAfterRestart.Task.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"{clock.Elapsed}: accepting again");
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        output.WriteLine($"{clock.Elapsed}: writers stopped, {accepted.Count} accepted");

        await using var dataSource = NpgsqlDataSource.Create(database);
        await using var command = dataSource.CreateCommand("SELECT id, topic FROM content_tasks");
        var stored = new List<(Guid Id, string Topic)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored.Add((reader.GetGuid(0), reader.GetString(1)));
            }
        }

        var byId = stored.ToLookup(static t => t.Id);
        var byTopic = stored.ToLookup(static t => t.Topic);
        var lost = accepted.Where(a => !byId.Contains(a.Id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} of {accepted.Count} accepted tasks lost ({acceptedAtCrash} accepted before the crash), e.g. {string.Join(", ", lost.Take(3))}");
        Assert.All(accepted, a => Assert.Single(byTopic[a.Topic]));
    }
}
