using ContentService.Tasks.Execution;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Resilience.Testing;

namespace ContentService.Tests.Tasks;

/// <summary>Deadline, leases, shutdown and cancellation, with real instances of the service on one database.</summary>
public sealed class TaskExecutorTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private ServiceHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await ServiceHarness.StartAsync(postgres.ConnectionString);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Deadline_ProviderHangs_TaskFailsWithTimeout_AndItsWorkIsCancelled()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var service = _harness.AddInstance(
            new Dictionary<string, string?> { ["Executor:Deadline:Limit"] = "00:00:05", ["Executor:Deadline:GracePeriod"] = "00:00:00", ["Executor:Workers"] = "1" },
            services => services.AddSingleton<TimeProvider>(clock));
        await _harness.Providers.SetFaultAsync("local", """{"hang":true}""");

        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "Never answered" });
        await _harness.WaitForAsync(id, t => t.Stage == "generate");
        var stopped = service.Services.GetRequiredService<RunningTaskRegistry>().WhenStopped(id);
        clock.Advance(TimeSpan.FromSeconds(5));
        var task = await _harness.WaitForStatusAsync(id, "failed");
        await stopped.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("ERR_TIMEOUT", task.ErrorId);
        Assert.Equal("generate", task.Stage);
        Assert.Empty(await _harness.CostsAsync(id));
    }

    [Fact]
    public async Task ExpiredLease_OfACrashedInstance_IsClaimedAgainAndCompleted_AttemptCounted()
    {
        var service = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "0" });
        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "Orphaned by a crash" });
        await _harness.ScalarAsync<int>(
            "UPDATE content_tasks SET status = 'running', attempts = 1, lease_owner = 'crashed-instance', lease_expires_at = now() - interval '1 second' WHERE id = $1 RETURNING 1", id);

        _harness.AddInstance();
        var task = await _harness.WaitForStatusAsync(id, "completed");

        Assert.Equal(2, task.Attempts);
        Assert.Equal(2, (await _harness.CostsAsync(id)).Count);
    }

    /// <summary>Regression: a reclaimed task ran (and was charged for) the stages its dead instance had already finished.</summary>
    [Fact]
    public async Task ExpiredLease_AfterTheDeadInstanceFinishedAStage_TheStageIsReusedNotChargedAgain()
    {
        var service = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "0" });
        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "Half done by a crash", complexity = "medium" });
        await _harness.ScalarAsync<int>(
            "UPDATE content_tasks SET status = 'running', stage = 'critique', attempts = 1, lease_owner = 'crashed-instance', lease_expires_at = now() - interval '1 second' WHERE id = $1 RETURNING 1", id);
        // What the dead instance recorded when its generate call returned (RecordStageAsync: the cost and the result).
        await _harness.ScalarAsync<int>("INSERT INTO task_costs (call_id, task_id, stage, provider, tokens, cost_usd) VALUES (gen_random_uuid(), $1, 'generate', 'budget', 400, 0.0002) RETURNING 1", id);
        await _harness.ScalarAsync<int>("INSERT INTO task_stage_results (task_id, stage, provider, text) VALUES ($1, 'generate', 'budget', 'The draft the crashed instance paid for.') RETURNING 1", id);

        _harness.AddInstance();
        await _harness.WaitForStatusAsync(id, "completed");

        var costs = await _harness.CostsAsync(id);
        Assert.Equal((400, 0.0002m), Assert.Single(costs, c => c.Stage == "generate") is var g ? (g.Tokens, g.CostUsd) : default);
        Assert.Single(costs, c => c.Stage == "critique");
    }

    [Fact]
    public async Task Options_Default_LeaseIsShortAndRenewedByHeartbeat()
    {
        var service = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "0" });

        var options = service.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ContentService.Tasks.Execution.ExecutorOptions>>().Value;

        // A dead instance's tasks are taken over within the lease, no longer after 60 s.
        Assert.True(options.LeaseDuration <= TimeSpan.FromSeconds(15), $"lease {options.LeaseDuration}");
    }

    [Fact]
    public async Task LiveLease_OfAnotherInstance_IsNotTaken()
    {
        var service = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "0" });
        var held = await ServiceHarness.CreateTaskAsync(service, new { topic = "Held by someone else" });
        await _harness.ScalarAsync<int>(
            "UPDATE content_tasks SET status = 'running', attempts = 1, lease_owner = 'other-instance', lease_expires_at = now() + interval '10 minutes' WHERE id = $1 RETURNING 1", held);

        _harness.AddInstance();
        var marker = await ServiceHarness.CreateTaskAsync(service, new { topic = "Created after it" });
        await _harness.WaitForStatusAsync(marker, "completed");

        var task = await _harness.ReadAsync(held);
        Assert.Equal(("running", 1), (task!.Status, task.Attempts));
        Assert.Empty(await _harness.CostsAsync(held));
    }

    [Fact]
    public async Task TwoInstancesOnOneDatabase_RunEveryTaskExactlyOnce()
    {
        var a = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "3" });
        _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "3" });

        var ids = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            ids.Add(await ServiceHarness.CreateTaskAsync(a, new { topic = $"Shared work {i}" }));
        }

        foreach (var id in ids)
        {
            var task = await _harness.WaitForStatusAsync(id, "completed");
            Assert.Equal(1, task.Attempts);
        }

        Assert.Equal(12L, await _harness.ScalarAsync<long>("SELECT count(*) FROM content"));
        Assert.Equal(24L, await _harness.ScalarAsync<long>("SELECT count(*) FROM task_costs"));
    }

    [Fact]
    public async Task Shutdown_WithATaskInFlight_ReturnsItToPending_AnotherInstanceFinishesIt()
    {
        var first = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "1" });
        await _harness.Providers.SetFaultAsync("local", """{"hang":true}""");
        var id = await ServiceHarness.CreateTaskAsync(first, new { topic = "Interrupted by a deploy" });
        await _harness.WaitForAsync(id, t => t.Stage == "generate");

        await _harness.StopAsync(first);
        var released = await _harness.ReadAsync(id);
        await _harness.Providers.ClearFaultsAsync();
        _harness.AddInstance();
        var task = await _harness.WaitForStatusAsync(id, "completed");

        Assert.Equal(("pending", "queued", 0), (released!.Status, released.Stage, released.Attempts));
        Assert.Null(await _harness.ScalarAsync<object>("SELECT lease_owner FROM content_tasks WHERE id = $1 AND status = 'completed'", id) as string);
        Assert.Equal(1, task.Attempts);
    }

    [Fact]
    public async Task Cancel_RunningTask_StopsItsWork_NothingIsPublished()
    {
        var service = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:Workers"] = "1" });
        await _harness.Providers.SetFaultAsync("local", """{"hang":true}""");
        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "Changed my mind" });
        await _harness.WaitForAsync(id, t => t.Stage == "generate");
        var stopped = service.Services.GetRequiredService<RunningTaskRegistry>().WhenStopped(id);

        using var client = service.CreateWriter();
        using var response = await Json.DeleteAsync(client, $"/api/tasks/{id}");
        await stopped.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("cancelled", (await Json.ReadAsync(response)).GetProperty("status").GetString());
        Assert.Equal("cancelled", (await _harness.ReadAsync(id))!.Status);
        Assert.Equal(0L, await _harness.ScalarAsync<long>("SELECT count(*) FROM content"));
    }
}
