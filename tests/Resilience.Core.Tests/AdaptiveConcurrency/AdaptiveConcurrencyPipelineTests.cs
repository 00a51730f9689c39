using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.AdaptiveConcurrency;
using Resilience.Retry;

namespace Resilience.Core.Tests.AdaptiveConcurrency;

/// <summary>The limit as a layer: refusals as outcomes, the queue, priorities, and its place in the pipeline.</summary>
public sealed class AdaptiveConcurrencyPipelineTests
{
    [Fact]
    public async Task LimitReached_QueueFull_RefusedAsAnOutcomeWithRetryAfter()
    {
        var pipeline = new ResiliencePipelineBuilder<int>("llm")
            .AddAdaptiveConcurrencyLimit(Fixed(1, queueLimit: 0))
            .Build();
        var blocker = new TaskCompletionSource<int>();
        var first = pipeline.ExecuteAsync(static (t, _) => new ValueTask<int>(t.Task), blocker, CancellationToken.None);

        var refused = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(2), 0, CancellationToken.None);

        var rejection = Assert.IsType<ConcurrencyLimitRejectedException>(refused.Exception);
        Assert.Equal(1, rejection.Limit);
        Assert.True(rejection.RetryAfter >= TimeSpan.FromMilliseconds(1));
        Assert.Contains("queue is full", rejection.Message, StringComparison.Ordinal);
        blocker.SetResult(1);
        Assert.Equal(1, await first);
    }

    [Fact]
    public async Task LimitReached_SlotFreesWhileQueued_TheQueuedCallRuns()
    {
        var pipeline = new ResiliencePipelineBuilder<int>("llm").AddAdaptiveConcurrencyLimit(Fixed(1, queueLimit: 4)).Build();
        var blocker = new TaskCompletionSource<int>();
        var first = pipeline.ExecuteAsync(static (t, _) => new ValueTask<int>(t.Task), blocker, CancellationToken.None);
        var queued = pipeline.ExecuteAsync(static (_, _) => new ValueTask<int>(2), 0, CancellationToken.None).AsTask();
        Assert.False(queued.IsCompleted);

        blocker.SetResult(1);

        Assert.Equal(1, await first);
        Assert.Equal(2, await queued);
    }

    [Fact]
    public async Task Queued_WaitRunsOut_RefusedAfterMaxQueueWait()
    {
        var time = new FakeTimeProvider();
        var options = Fixed(1, queueLimit: 4);
        options.MaxQueueWait = TimeSpan.FromMilliseconds(200);
        var pipeline = new ResiliencePipelineBuilder<int>("llm") { TimeProvider = time }.AddAdaptiveConcurrencyLimit(options).Build();
        var blocker = new TaskCompletionSource<int>();
        var first = pipeline.ExecuteAsync(static (t, _) => new ValueTask<int>(t.Task), blocker, CancellationToken.None).AsTask();
        var queued = pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(2), 0, CancellationToken.None).AsTask();

        time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(queued.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var outcome = await queued;

        Assert.Contains("as long as the call could wait", Assert.IsType<ConcurrencyLimitRejectedException>(outcome.Exception).Message, StringComparison.Ordinal);
        blocker.SetResult(1);
        Assert.Equal(1, await first);
    }

    [Fact]
    public async Task Queued_CallerCancels_EndsAsCancelledNotRefused()
    {
        var pipeline = new ResiliencePipelineBuilder<int>("llm").AddAdaptiveConcurrencyLimit(Fixed(1, queueLimit: 4)).Build();
        var blocker = new TaskCompletionSource<int>();
        var first = pipeline.ExecuteAsync(static (t, _) => new ValueTask<int>(t.Task), blocker, CancellationToken.None).AsTask();
        using var caller = new CancellationTokenSource();
        var queued = pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(2), 0, caller.Token).AsTask();

        await caller.CancelAsync();
        var outcome = await queued;

        Assert.IsAssignableFrom<OperationCanceledException>(outcome.Exception);
        blocker.SetResult(1);
        Assert.Equal(1, await first);
    }

    [Fact]
    public async Task Priorities_SheddableRefusedFirst_CriticalOvertakesTheQueue()
    {
        var options = Fixed(4, queueLimit: 4);
        options.SheddableShare = 0.5;
        var pipeline = new ResiliencePipelineBuilder<string>("llm").AddAdaptiveConcurrencyLimit(options).Build();
        var blockers = new List<TaskCompletionSource<string>>();
        var held = new List<Task<string>>();
        void Hold()
        {
            var blocker = new TaskCompletionSource<string>();
            blockers.Add(blocker);
            held.Add(pipeline.ExecuteAsync(static (t, _) => new ValueTask<string>(t.Task), blocker, CancellationToken.None).AsTask());
        }

        Hold();
        Hold();

        // Two of four slots busy: a sheddable call (share 0.5 = 2 slots) is refused, a normal one is not.
        var shed = await Run(pipeline, CallPriority.Sheddable, "shed");
        Assert.IsType<ConcurrencyLimitRejectedException>(shed.Exception);
        Hold();
        Hold();

        // All four busy: a normal call queues, then a critical one goes ahead of it.
        var order = new List<string>();
        var normal = Run(pipeline, CallPriority.Normal, "normal", order);
        var critical = Run(pipeline, CallPriority.Critical, "critical", order);
        Assert.False(normal.IsCompleted);
        Assert.False(critical.IsCompleted);

        // One slot frees: the critical call takes it (the normal one runs once the critical one has given it back).
        blockers[0].SetResult("held");
        await critical;
        await normal;
        Assert.Equal(["critical", "normal"], order);

        foreach (var blocker in blockers)
        {
            blocker.TrySetResult("held");
        }

        await Task.WhenAll(held);
    }

    [Fact]
    public async Task Retry_DoesNotRetryARefusal()
    {
        var attempts = new System.Runtime.CompilerServices.StrongBox<int>();
        var pipeline = new ResiliencePipelineBuilder<int>("llm")
            .AddAdaptiveConcurrencyLimit(Fixed(1, queueLimit: 0))
            .AddRetry(new RetryOptions { MaxRetries = 3, BaseDelay = TimeSpan.Zero })
            .Build();
        var blocker = new TaskCompletionSource<int>();
        var first = pipeline.ExecuteAsync(static (t, _) => new ValueTask<int>(t.Task), blocker, CancellationToken.None);

        var refused = await pipeline.ExecuteOutcomeAsync(static (box, _) => new ValueTask<int>(++box.Value), attempts, CancellationToken.None);

        Assert.IsType<ConcurrencyLimitRejectedException>(refused.Exception);
        Assert.Equal(0, attempts.Value);
        blocker.SetResult(1);
        await first;
    }

    [Fact]
    public void Describe_ShowsTheLimitBetweenRateLimiterAndTotalTimeout()
    {
        var pipeline = new ResiliencePipelineBuilder("llm")
            .AddTotalTimeout(TimeSpan.FromSeconds(5))
            .AddAdaptiveConcurrencyLimit(new AdaptiveConcurrencyOptions())
            .AddRateLimiter(new System.Threading.RateLimiting.ConcurrencyLimiter(new() { PermitLimit = 10, QueueLimit = 0 }))
            .Build();

        Assert.Equal(["RateLimiter", "AdaptiveConcurrency", "TotalTimeout"], pipeline.Describe().Select(static d => d.Kind));
        Assert.IsType<AdaptiveConcurrencyOptions>(pipeline.Describe()[1].Options);
    }

    [Fact]
    public void Describe_PerAttempt_TheLimitInsideRetryAndThrottlingOutsideTheBreaker()
    {
        var options = new AdaptiveConcurrencyOptions { PerAttempt = true };
        var pipeline = new ResiliencePipelineBuilder("db")
            .AddCircuitBreaker(new Resilience.CircuitBreaking.CircuitBreakerOptions())
            .AddAdaptiveConcurrencyLimit(options)
            .AddAdaptiveThrottling(new Resilience.AdaptiveThrottling.AdaptiveThrottlingOptions())
            .AddRetry(new RetryOptions())
            .AddTotalTimeout(TimeSpan.FromSeconds(5))
            .Build();

        Assert.Equal(["TotalTimeout", "Retry", "AdaptiveThrottling", "AdaptiveConcurrencyPerAttempt", "CircuitBreaker"], pipeline.Describe().Select(static d => d.Kind));
    }

    [Fact]
    public async Task PerAttempt_RetryBackingOff_HoldsNoSlot()
    {
        // Limit 1, no queue. The first call's attempt fails and backs off for a second: per attempt, its slot is free
        // meanwhile, so a second call runs (per call, it would be refused until the first call ends).
        var time = new FakeTimeProvider();
        var options = Fixed(1, queueLimit: 0);
        options.PerAttempt = true;
        var pipeline = new ResiliencePipelineBuilder<int>("db") { TimeProvider = time }
            .AddAdaptiveConcurrencyLimit(options)
            .AddRetry(new RetryOptions { MaxRetries = 1, BaseDelay = TimeSpan.FromSeconds(1), Jitter = RetryJitter.None })
            .Build();
        var attempts = new System.Runtime.CompilerServices.StrongBox<int>();
        var first = pipeline.ExecuteOutcomeAsync(
            static (box, _) => ++box.Value == 1 ? ValueTask.FromException<int>(new InvalidOperationException("blip")) : new ValueTask<int>(1),
            attempts,
            CancellationToken.None).AsTask();
        Assert.False(first.IsCompleted);

        var second = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(2), 0, CancellationToken.None);

        Assert.Equal(2, second.Result);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, (await first).Result);
    }

    [Fact]
    public async Task PerAttempt_RetryWaitsOutShortBreaks_StillNeverRetriesARefusal()
    {
        var options = Fixed(1, queueLimit: 0);
        options.PerAttempt = true;
        var retries = new System.Runtime.CompilerServices.StrongBox<int>();
        var pipeline = new ResiliencePipelineBuilder<int>("db")
            .AddAdaptiveConcurrencyLimit(options)
            .AddRetry(new RetryOptions { MaxRetries = 3, BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.FromSeconds(30), WaitOutShortBreaks = true, OnRetry = _ => retries.Value++ })
            .Build();
        var blocker = new TaskCompletionSource<int>();
        var first = pipeline.ExecuteAsync(static (t, _) => new ValueTask<int>(t.Task), blocker, CancellationToken.None);

        var refused = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(2), 0, CancellationToken.None);

        Assert.IsType<ConcurrencyLimitRejectedException>(refused.Exception);
        Assert.Equal(0, retries.Value);
        blocker.SetResult(1);
        await first;
    }

    [Fact]
    public async Task ClassifyFailure_FailureItCallsATimeout_ShrinksTheLimit()
    {
        var time = new FakeTimeProvider();
        var options = new AdaptiveConcurrencyOptions
        {
            InitialLimit = 10,
            MinLimit = 1,
            MaxLimit = 10,
            ClassifyFailure = static e => e is InvalidOperationException ? CallEnd.TimedOut : CallEnd.Completed,
        };
        var limiter = new AdaptiveConcurrencyLimiter("db", options, time);
        var pipeline = new ResiliencePipelineBuilder<int>("db") { TimeProvider = time }.AddAdaptiveConcurrencyLimit(limiter).Build();

        await pipeline.ExecuteOutcomeAsync(static (_, _) => ValueTask.FromException<int>(new InvalidOperationException("pool exhausted")), 0, CancellationToken.None);
        time.Advance(options.SampleWindow);
        await pipeline.ExecuteOutcomeAsync(static (_, _) => ValueTask.FromException<int>(new InvalidOperationException("pool exhausted")), 0, CancellationToken.None);

        Assert.Equal(9, limiter.Limit);
    }

    [Fact]
    public async Task ClassifyFailure_Throws_SlotGivenBackAndTheFailureStands()
    {
        var options = Fixed(1, queueLimit: 0);
        options.ClassifyFailure = static _ => throw new InvalidOperationException("classifier bug");
        var limiter = new AdaptiveConcurrencyLimiter("db", options);
        var pipeline = new ResiliencePipelineBuilder<int>("db").AddAdaptiveConcurrencyLimit(limiter).Build();

        var failed = await pipeline.ExecuteOutcomeAsync(static (_, _) => ValueTask.FromException<int>(new TimeoutException("slow")), 0, CancellationToken.None);

        Assert.IsType<TimeoutException>(failed.Exception);
        Assert.Equal(0, limiter.InFlight);
        Assert.Equal(2, (await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(2), 0, CancellationToken.None)).Result);
    }

    [Fact]
    public void AddAdaptiveConcurrencyLimit_FromConfiguration_BindsAndRejectsUnknownKeys()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Resilience:Pipelines:llm:TotalTimeout"] = "00:00:10",
            ["Resilience:ConcurrencyLimits:llm:MaxLimit"] = "64",
            ["Resilience:ConcurrencyLimits:bad:MaxLimt"] = "64",
        }).Build();
        var services = new ServiceCollection();
        services.AddResilience()
            .AddPipeline("llm", configuration.GetSection("Resilience:Pipelines:llm"))
            .AddAdaptiveConcurrencyLimit("llm", configuration.GetSection("Resilience:ConcurrencyLimits:llm"))
            .AddAdaptiveConcurrencyLimit("bad", configuration.GetSection("Resilience:ConcurrencyLimits:bad"));
        using var provider = services.BuildServiceProvider();

        var pipeline = provider.GetRequiredKeyedService<ResiliencePipeline>("llm");
        var limiter = provider.GetRequiredKeyedService<AdaptiveConcurrencyLimiter>("llm");
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<AdaptiveConcurrencyOptions>>().Get("bad"));

        Assert.Equal(64, limiter.Options.MaxLimit);
        Assert.Contains(pipeline.Describe(), static d => d.Kind == "AdaptiveConcurrency");
        Assert.Contains("Resilience:ConcurrencyLimits:bad:MaxLimt: unknown key", error.Message, StringComparison.Ordinal);
    }

    private static AdaptiveConcurrencyOptions Fixed(int limit, int queueLimit) =>
        new() { InitialLimit = limit, MinLimit = limit, MaxLimit = limit, QueueLimit = queueLimit, MaxQueueWait = TimeSpan.FromSeconds(30) };

    private static async Task<Outcome<string>> Run(ResiliencePipeline<string> pipeline, CallPriority priority, string name, List<string>? order = null)
    {
        var context = ResilienceContextPool.Shared.Get(name, CancellationToken.None);
        context.Properties.Set(AdaptiveConcurrencyLimiter.PriorityKey, priority);
        try
        {
            return await pipeline.ExecuteOutcomeAsync(
                static (ctx, state) =>
                {
                    lock (state.order)
                    {
                        state.order.Add(state.name);
                    }

                    return new ValueTask<string>(state.name);
                },
                context,
                (order: order ?? [], name));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
