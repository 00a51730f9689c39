using ContentService.Tests.Infrastructure;
using Resilience.CircuitBreaking;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Testing;

namespace ContentService.Tests.Tasks;

/// <summary>The whole pipeline against the real fake providers: generate → critique → (refine) → image → publish, with costs.</summary>
public sealed class ContentPipelineTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private ServiceHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await ServiceHarness.StartAsync(postgres.ConnectionString);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Task_LowComplexity_CompletesThroughTheFreeProvider_StoresContentImageAndCosts()
    {
        var service = _harness.AddInstance();

        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "Retry budgets", complexity = "low" });
        var task = await _harness.WaitForStatusAsync(id, "completed");

        Assert.Equal(("done", 100, 1), (task.Stage, task.Progress, task.Attempts));
        Assert.NotNull(task.ContentId);
        Assert.Equal("local", await _harness.ScalarAsync<string>("SELECT provider FROM content WHERE id = $1", task.ContentId!.Value));
        Assert.False(string.IsNullOrEmpty(await _harness.ScalarAsync<string>("SELECT image_id FROM content WHERE id = $1", task.ContentId!.Value)));
        var costs = await _harness.CostsAsync(id);
        Assert.Equal(["generate", "critique"], costs.Select(c => c.Stage));
        Assert.All(costs, c => Assert.Equal(("local", 0m), (c.Provider, c.CostUsd)));
        Assert.All(costs, c => Assert.True(c.Tokens > 0));
    }

    [Fact]
    public async Task Task_MediumComplexity_StartsAtTheBudgetProvider_CostIsTokensTimesPrice()
    {
        var service = _harness.AddInstance();

        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "Pool health", complexity = "medium" });
        await _harness.WaitForStatusAsync(id, "completed");

        var costs = await _harness.CostsAsync(id);
        Assert.All(costs, c => Assert.Equal("budget", c.Provider));
        Assert.All(costs, c => Assert.Equal(Math.Round(c.Tokens * 0.0005m / 1000m, 6), c.CostUsd));
        Assert.All(costs, c => Assert.True(c.CostUsd > 0));
    }

    [Fact]
    public async Task Task_CritiqueBelowThreshold_GetsOneRefineRound()
    {
        var service = _harness.AddInstance();

        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "A rough first take" });
        var task = await _harness.WaitForStatusAsync(id, "completed");

        Assert.True(await _harness.ScalarAsync<bool>("SELECT refined FROM content WHERE id = $1", task.ContentId!.Value));
        Assert.Contains("[refined", await _harness.ScalarAsync<string>("SELECT body FROM content WHERE id = $1", task.ContentId!.Value), StringComparison.Ordinal);
        Assert.Equal(5, await _harness.ScalarAsync<int>("SELECT quality_score FROM content WHERE id = $1", task.ContentId!.Value));
        Assert.Equal(["generate", "critique", "refine"], (await _harness.CostsAsync(id)).Select(c => c.Stage));
    }

    [Fact]
    public async Task CheapestProviderDown_NextProviderServes_ItsBreakerOpens_CostsChange()
    {
        var service = _harness.AddInstance();
        await _harness.Providers.SetFaultAsync("local", """{"outage":true}""");

        var first = await ServiceHarness.CreateTaskAsync(service, new { topic = "Fail-over one" });
        await _harness.WaitForStatusAsync(first, "completed");
        var second = await ServiceHarness.CreateTaskAsync(service, new { topic = "Fail-over two" });
        await _harness.WaitForStatusAsync(second, "completed");

        Assert.All(await _harness.CostsAsync(first), c => Assert.Equal("budget", c.Provider));
        Assert.All(await _harness.CostsAsync(second), c => Assert.Equal("budget", c.Provider));
        var breakers = service.Services.GetRequiredService<CircuitBreakerRegistry>().GetStatusReport();
        Assert.Equal(CircuitState.Open, Assert.Single(breakers, b => b.Name.StartsWith("llm-local:", StringComparison.Ordinal)).State);
        Assert.Equal(CircuitState.Closed, Assert.Single(breakers, b => b.Name.StartsWith("llm-budget:", StringComparison.Ordinal)).State);
    }

    [Fact]
    public async Task DroppedConnectionMidAnswer_IsAFailedCall_NextProviderServes()
    {
        var service = _harness.AddInstance();
        await _harness.Providers.SetFaultAsync("local", """{"dropConnection":true}""");

        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "Cut answers" });
        await _harness.WaitForStatusAsync(id, "completed");

        Assert.All(await _harness.CostsAsync(id), c => Assert.Equal("budget", c.Provider));
    }

    [Fact]
    public async Task EveryProviderDown_PolicyFail_TaskFailsWithUpstreamUnavailable_NoContent()
    {
        var service = _harness.AddInstance();
        foreach (var provider in new[] { "local", "budget", "premium" })
        {
            await _harness.Providers.SetFaultAsync(provider, """{"errorRate":1,"errorStatus":503}""");
        }

        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "Nobody home" });
        var task = await _harness.WaitForStatusAsync(id, "failed");

        Assert.Equal("ERR_UPSTREAM_UNAVAILABLE", task.ErrorId);
        Assert.Contains("No LLM provider", task.Error, StringComparison.Ordinal);
        Assert.Null(task.ContentId);
        Assert.Equal(0L, await _harness.ScalarAsync<long>("SELECT count(*) FROM content"));
        Assert.Empty(await _harness.CostsAsync(id));
    }

    [Fact]
    public async Task EveryProviderDown_PolicyWait_TaskWaitsPendingWithoutUsingAnAttempt()
    {
        var service = _harness.AddInstance(new Dictionary<string, string?> { ["Providers:WhenAllDown"] = "Wait", ["Providers:AllDownRetryAfter"] = "00:10:00" });
        await _harness.Providers.SetFaultAsync("premium", """{"outage":true}""");

        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "Only premium can", complexity = "high" });
        var task = await _harness.WaitForAsync(id, t => t.Status == "pending" && t.ErrorId is not null);

        Assert.Equal(("ERR_UPSTREAM_UNAVAILABLE", 0), (task.ErrorId, task.Attempts));
        // Due again when the premium breaker may close (its remaining break, 30 s by default), not at once.
        Assert.True(await _harness.ScalarAsync<bool>("SELECT available_at > now() + interval '10 seconds' FROM content_tasks WHERE id = $1", id));
    }

    [Fact]
    public async Task CmsDown_EveryAttemptFails_TaskEndsFailedAfterMaxAttempts_LlmStagesChargedOnce()
    {
        var service = _harness.AddInstance(new Dictionary<string, string?> { ["Executor:MaxAttempts"] = "2" });
        await _harness.Providers.SetFaultAsync("cms", """{"errorRate":1,"errorStatus":500}""");

        var id = await ServiceHarness.CreateTaskAsync(service, new { topic = "No images today" });
        var task = await _harness.WaitForStatusAsync(id, "failed");

        Assert.Equal(("ERR_UPSTREAM_UNAVAILABLE", 2), (task.ErrorId, task.Attempts));
        Assert.Contains("CMS", task.Error, StringComparison.Ordinal);
        // Generate and critique succeeded on the first attempt; the second reused them (it was 4 rows: both paid twice).
        Assert.Equal(["generate", "critique"], (await _harness.CostsAsync(id)).Select(static c => c.Stage));
    }
}
