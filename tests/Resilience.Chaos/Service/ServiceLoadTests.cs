using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ContentService.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Resilience.Chaos.Database.Faults;
using Resilience.Chaos.Load;
using Resilience.Chaos.Reporting;
using Resilience.Npgsql.Tests.Faults;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Chaos.Service;

/// <summary>
/// Content service under load on loopback (Kestrel), open loop: steady state, then the database stops for a while and
/// comes back, then every LLM provider fails and heals. Reports throughput, p50/p99 and the error mix by error ID per
/// phase, samples memory, threads and the service's open database connections, and checks afterwards that every
/// acknowledged task is in the database exactly once.
/// </summary>
public sealed class ServiceLoadTests(ServiceLoadRun run, ITestOutputHelper output) : IClassFixture<ServiceLoadRun>
{
    [Fact]
    public void Load_FaultsMidRun_EveryAcknowledgedTaskOnceErrorsWithIdsResourcesBounded()
    {
        run.Print(output);

        Assert.Equal(run.Acknowledged, run.Present);
        Assert.Equal(0, run.DuplicateKeys);
        Assert.All(run.Calls.Where(static c => c.Status >= 400), static c => Assert.True(c.ErrorId is not null, $"{c.Path}: {c.Status} without an error ID"));
        Assert.DoesNotContain(run.Calls, static c => c.Status == 500);

        // Bounded: the service's connections never exceed its pool (Npgsql's default 100), threads stay in the hundreds.
        Assert.True(run.Samples.Max(static s => s.Connections ?? 0) <= 100, "database connections grew past the pool size");
        Assert.True(run.Samples.Max(static s => s.Threads) < 500, "thread count grew without bound");
    }

    [Fact]
    public void Load_DatabaseBack_ServiceRecoversWithinOneBreakOfItsDefaults()
    {
        Assert.True(run.RecoveryAfterDatabase is { } r && r <= TimeSpan.FromSeconds(6), $"recovered after {run.RecoveryAfterDatabase?.ToString() ?? "never"}");
        var last = run.Calls.Where(c => c.Started >= run.Phases[^1].From + TimeSpan.FromSeconds(1)).ToList();
        Assert.True(last.Count(static c => c.Status is > 0 and < 400) >= 0.99 * last.Count, "the service did not serve > 99 % of requests after every fault healed");
    }
}

/// <summary>Runs the load once, on a PostgreSQL cluster of its own (stopped mid-run) and the fake providers on loopback.</summary>
public sealed class ServiceLoadRun : IAsyncLifetime
{
    private const int Rate = 80;
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(ChaosRun.IsSoak ? 30 : 4);
    private static readonly TimeSpan DatabaseDown = TimeSpan.FromSeconds(ChaosRun.IsSoak ? 20 : 3);

    private PostgresServer _server = null!;
    private FakeProvidersServer _providers = null!;

    internal Call[] Calls { get; private set; } = [];

    internal List<(string Name, TimeSpan From)> Phases { get; } = [("steady", TimeSpan.Zero)];

    internal List<ResourceSample> Samples { get; } = [];

    internal int Acknowledged { get; private set; }

    internal long Present { get; private set; }

    internal long DuplicateKeys { get; private set; }

    internal string TaskStates { get; private set; } = string.Empty;

    internal TimeSpan? RecoveryAfterDatabase { get; private set; }

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartDedicatedAsync();
        _providers = FakeProvidersServer.Start();
        await RunAsync();
    }

    public async Task DisposeAsync()
    {
        await _providers.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task RunAsync()
    {
        var connectionString = await TestDatabase.CreateAsync(_server.ConnectionString);
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var factory = new ContentServiceFactory(connectionString, _providers.BaseAddress, new Dictionary<string, string?>
        {
            ["Executor:PollInterval"] = "00:00:00.100",
            ["RateLimiting:PermitsPerWindow"] = "100000",

            // The outage makes the service log every failed call; the tables here are the report.
            ["Logging:LogLevel:Default"] = "None",
        });
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("X-Api-Key", ContentServiceFactory.ApiKey);

        var clock = Stopwatch.StartNew();
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<Guid, int>();
        var phases = Phases;
        var samples = Samples;
        using var stop = new CancellationTokenSource();
        var sampler = SampleAsync(database, clock, samples, stop.Token);
        var load = ArrivalSchedule.RunAsync(Rate, arrival => CallAsync(client, arrival, acknowledged, clock), stop.Token);

        await WaitAsync(Phase);
        phases.Add(("database stopped", clock.Elapsed));
        await new OutageFault(_server, at: 0, DatabaseDown).InjectAsync(FaultContext.Idle, database);
        phases.Add(("database back", clock.Elapsed));
        await WaitAsync(Phase);
        phases.Add(("providers down", clock.Elapsed));
        foreach (var provider in new[] { "local", "budget", "premium" })
        {
            await _providers.SetFaultAsync(provider, """{"outage":true}""");
        }

        await WaitAsync(Phase);
        phases.Add(("providers healed", clock.Elapsed));
        await _providers.ClearFaultsAsync();
        await WaitAsync(Phase);
        await stop.CancelAsync();
        var calls = await load;
        await sampler;

        // Every acknowledged task, once (the table's key is the id; the idempotency key is unique per caller).
        await using var check = NpgsqlDataSource.Create(connectionString);
        await using var count = check.CreateCommand("SELECT count(*) FROM content_tasks WHERE id = ANY($1)");
        count.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. acknowledged.Keys] });
        var present = (long)(await count.ExecuteScalarAsync())!;
        await using var keys = check.CreateCommand("SELECT count(*) - count(DISTINCT idempotency_key) FROM content_tasks WHERE idempotency_key LIKE 'load-%'");
        var duplicateKeys = (long)(await keys.ExecuteScalarAsync())!;

        await using var states = check.CreateCommand("SELECT string_agg(status || ' ×' || n, ', ' ORDER BY n DESC) FROM (SELECT status, count(*) AS n FROM content_tasks GROUP BY status) s");
        TaskStates = (string)(await states.ExecuteScalarAsync())!;
        Calls = calls;
        Acknowledged = acknowledged.Count;
        Present = present;
        DuplicateKeys = duplicateKeys;
        var back = phases.Single(static p => p.Name == "database back").From;
        RecoveryAfterDatabase = RecoveryTime.Compute(calls.Select(static c => (c.Started + c.Latency, c.Status is > 0 and < 400)), back, TimeSpan.FromSeconds(1));
    }

    private static async Task<Call> CallAsync(HttpClient client, int arrival, System.Collections.Concurrent.ConcurrentDictionary<Guid, int> acknowledged, Stopwatch clock)
    {
        // Three in ten create a task (idempotency-keyed), four read one, two list, one reads the metrics.
        var kind = arrival % 10;
        var known = acknowledged.Keys.LastOrDefault();
        using var request = kind switch
        {
            < 3 => new HttpRequestMessage(HttpMethod.Post, "api/tasks") { Content = JsonContent.Create(new { topic = $"Load task {arrival}" }) },
            < 7 => new HttpRequestMessage(HttpMethod.Get, $"api/tasks/{(known == Guid.Empty ? Guid.NewGuid() : known)}"),
            < 9 => new HttpRequestMessage(HttpMethod.Get, "api/tasks?page=1&pageSize=20"),
            _ => new HttpRequestMessage(HttpMethod.Get, "api/metrics"),
        };
        if (kind < 3)
        {
            request.Headers.Add("Idempotency-Key", $"load-{arrival}");
        }

        var started = clock.Elapsed;
        try
        {
            using var response = await client.SendAsync(request);
            var answer = await ServiceAnswer.ReadAsync(request.RequestUri!.ToString(), response);
            if (kind < 3 && response.IsSuccessStatusCode && await response.Content.ReadFromJsonAsync<TaskId>() is { } task)
            {
                acknowledged.TryAdd(task.Id, arrival);
            }

            return new Call(kind < 3 ? "POST /api/tasks" : request.RequestUri!.ToString(), started, clock.Elapsed - started, answer.Status, answer.ErrorId, answer.RetryAfter);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new Call(request.RequestUri!.ToString(), started, clock.Elapsed - started, 0, ex.GetType().Name, null);
        }
    }

    /// <summary>Once a second: the process's working set and thread count, and the service's open connections (from a separate admin pool).</summary>
    private async Task SampleAsync(string database, Stopwatch clock, List<ResourceSample> samples, CancellationToken stop)
    {
        await using var admin = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(_server.ConnectionString) { MaxPoolSize = 1, Timeout = 1 }.ConnectionString);
        using var ticks = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await ticks.WaitForNextTickAsync(stop))
            {
                int? connections = null;
                try
                {
                    await using var command = admin.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = $1");
                    command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = database });
                    connections = (int)(long)(await command.ExecuteScalarAsync(stop))!;
                }
                catch (NpgsqlException)
                {
                    admin.Clear(); // The database is down: no figure for this second.
                }

                using var process = Process.GetCurrentProcess();
                samples.Add(new ResourceSample(clock.Elapsed, process.WorkingSet64, process.Threads.Count, connections));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run's end.
        }
    }

    /// <summary>A phase's length is the scenario itself: real time, since the real service and database run through it.</summary>
    private static Task WaitAsync(TimeSpan phase) => Task.Delay(phase);

    internal void Print(ITestOutputHelper output)
    {
        var (calls, phases, samples) = (Calls, Phases, Samples);
        var table = new FigureTable($"Content service — open-loop load ({Rate} requests/s on loopback: 30 % create, 40 % get, 20 % list, 10 % metrics)",
            "phase", "from", "requests", "throughput (ok/s)", "p50 / p99", "answers by status and error ID");
        for (var i = 0; i < phases.Count; i++)
        {
            var (name, from) = phases[i];
            var to = i + 1 < phases.Count ? phases[i + 1].From : TimeSpan.MaxValue;
            var inPhase = calls.Where(c => c.Started >= from && c.Started < to).ToList();
            var seconds = ((i + 1 < phases.Count ? to : inPhase.Max(static c => c.Started)) - from).TotalSeconds;
            var mix = string.Join(", ", inPhase.GroupBy(static c => c.Status is > 0 and < 400 ? "ok" : $"{c.Status} {c.ErrorId}").OrderByDescending(static g => g.Count()).Select(static g => $"{g.Key} ×{g.Count()}"));
            var latencies = inPhase.ConvertAll(static c => c.Latency);
            table.Row(name, $"{from.TotalSeconds:0.0} s", inPhase.Count, inPhase.Count(static c => c.Status is > 0 and < 400) / Math.Max(seconds, 0.001),
                $"{FigureTable.Milliseconds(Percentiles.Of(latencies, 50))} / {FigureTable.Milliseconds(Percentiles.Of(latencies, 99))}", mix);
        }

        var back = phases.Single(static p => p.Name == "database back").From;
        var retryAfter = calls.Where(c => c.Started >= back && c.RetryAfter is not null).Select(static c => c.RetryAfter!).FirstOrDefault();
        table.Note($"Recovery after the database was back (every 1 s bucket above 99 % ok): {(RecoveryAfterDatabase is { } r ? FigureTable.Milliseconds(r) : "not within the run")}" +
            $" (first Retry-After answered after it was back: {retryAfter ?? "none"}). " +
            $"Tasks by status at the end: {TaskStates}. " +
            $"Acknowledged tasks: {Acknowledged}; present in the database: {Present}; duplicate idempotency keys: {DuplicateKeys}. " +
            $"Test process (service, load generator and fake providers together): working set {samples.Min(static s => s.WorkingSet) / 1048576} → max {samples.Max(static s => s.WorkingSet) / 1048576} MiB, " +
            $"threads max {samples.Max(static s => s.Threads)}; the service's database connections max {samples.Max(static s => s.Connections ?? 0)}.");
        table.Print(output);
    }

    private sealed record TaskId(Guid Id);
}

/// <summary>One request of the load: what, when (since the start), how long, and the answer.</summary>
internal sealed record Call(string Path, TimeSpan Started, TimeSpan Latency, int Status, string? ErrorId, string? RetryAfter);

/// <summary>Once a second: the test process's working set and threads, and the service's open database connections.</summary>
internal sealed record ResourceSample(TimeSpan At, long WorkingSet, int Threads, int? Connections);
