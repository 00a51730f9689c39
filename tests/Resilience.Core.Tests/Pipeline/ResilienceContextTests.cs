using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Fallback;
using Resilience.FaultInjection;
using Resilience.Hedging;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience.Core.Tests.Pipeline;

public sealed class ResilienceContextTests
{
    private static readonly ResiliencePropertyKey<string> Tenant = new("tenant");

    private static RetryOptions NoDelay(int retries = 2, Action<RetryArguments>? onRetry = null) =>
        new() { MaxRetries = retries, BaseDelay = TimeSpan.Zero, Jitter = RetryJitter.None, Backoff = RetryBackoff.Constant, OnRetry = onRetry };

    [Fact]
    public async Task ExecuteAsync_WithContext_OperationSeesKeyAttemptAndPropertiesAndCallbacksSeeTheSameContext()
    {
        var seenByCallback = new List<(int Attempt, string Tenant)>();
        var pipeline = new ResiliencePipelineBuilder("ctx")
            .AddRetry(NoDelay(onRetry: a => seenByCallback.Add((a.Attempt, a.Context.Properties.GetValue(Tenant, "?")))))
            .Build();
        var context = ResilienceContextPool.Shared.Get("orders:42");
        context.Properties.Set(Tenant, "acme");
        var attempts = new List<(string? Key, int Attempt)>();

        var result = await pipeline.ExecuteAsync(
            static (ctx, list) =>
            {
                list.Add((ctx.OperationKey, ctx.Attempt));
                return ctx.Attempt < 2 ? throw new InvalidOperationException("flaky") : new ValueTask<int>(7);
            },
            context,
            attempts);

        Assert.Equal(7, result);
        Assert.Equal([("orders:42", 0), ("orders:42", 1), ("orders:42", 2)], attempts);
        Assert.Equal([(1, "acme"), (2, "acme")], seenByCallback);
        ResilienceContextPool.Shared.Return(context);
    }

    [Fact]
    public async Task ExecuteOutcomeAsync_RetryNotAllowed_FailsAfterOneAttempt()
    {
        var pipeline = new ResiliencePipelineBuilder("ctx").AddRetry(NoDelay()).Build();
        var context = ResilienceContextPool.Shared.Get();
        context.RetryAllowed = false;
        var calls = new int[1];

        var outcome = await pipeline.ExecuteOutcomeAsync(static (_, c) => { c[0]++; return ValueTask.FromException<int>(new InvalidOperationException("once")); }, context, calls);

        Assert.IsType<InvalidOperationException>(outcome.Exception);
        Assert.Equal(1, calls[0]);
    }

    [Fact]
    public async Task ExecuteAsync_AttemptTimeout_OperationTokenFromContextIsCancelledAndCallerTokenRestored()
    {
        var time = new FakeTimeProvider();
        var fired = new List<TimeoutKind>();
        var pipeline = new ResiliencePipelineBuilder("ctx") { TimeProvider = time }
            .AddAttemptTimeout(new TimeoutOptions { Timeout = TimeSpan.FromSeconds(1), OnTimeout = a => fired.Add(a.Kind) })
            .Build();
        using var caller = new CancellationTokenSource();
        var context = ResilienceContextPool.Shared.Get(null, caller.Token);

        var call = pipeline.ExecuteAsync(static async (ctx, t) =>
        {
            t.Advance(TimeSpan.FromSeconds(2));
            await Task.Delay(Timeout.InfiniteTimeSpan, ctx.CancellationToken);
            return 0;
        }, context, time).AsTask();

        var timeout = await Assert.ThrowsAsync<OperationTimeoutException>(() => call);
        Assert.Equal(TimeoutKind.Attempt, timeout.Kind);
        Assert.Equal([TimeoutKind.Attempt], fired);
        Assert.Equal(caller.Token, context.CancellationToken);
    }

    [Fact]
    public async Task ExecuteAsync_HedgingNotAllowed_NoCopyStarts_AndOnHedgingSeesEachCopy()
    {
        var hedged = new List<int>();
        var pipeline = new ResiliencePipelineBuilder("ctx")
            .AddHedging(new HedgingOptions { MaxHedgedAttempts = 2, Delay = TimeSpan.FromHours(1), OnHedging = a => hedged.Add(a.Context.HedgedAttempt) })
            .Build();
        var noHedge = ResilienceContextPool.Shared.Get();
        noHedge.HedgingAllowed = false;

        var refused = await pipeline.ExecuteOutcomeAsync(static (ctx, _) => ValueTask.FromException<int>(new InvalidOperationException("a" + ctx.HedgedAttempt)), noHedge, 0);
        var answered = await pipeline.ExecuteAsync(
            static (ctx, _) => ctx.HedgedAttempt < 2 ? ValueTask.FromException<int>(new InvalidOperationException("down")) : new ValueTask<int>(ctx.HedgedAttempt),
            ResilienceContextPool.Shared.Get(),
            0);

        Assert.Equal("a0", refused.Exception!.Message);
        Assert.Equal(2, answered);
        Assert.Equal([1, 2], hedged);
    }

    [Fact]
    public async Task AddLayer_AtEachPosition_RunsPerCallPerAttemptOrAroundTheOperation()
    {
        var log = new List<string>();
        var pipeline = new ResiliencePipelineBuilder("ctx")
            .AddRetry(NoDelay(retries: 1))
            .AddLayer(CustomLayerPosition.Inner, new Recording("inner", log))
            .AddLayer(CustomLayerPosition.Attempt, new Recording("attempt", log))
            .AddLayer(CustomLayerPosition.Outer, new Recording("outer", log))
            .Build();
        var calls = new int[1];

        var result = await pipeline.ExecuteAsync(static (c, _) => ++c[0] < 2 ? throw new InvalidOperationException() : new ValueTask<int>(c[0]), calls, CancellationToken.None);

        Assert.Equal(2, result);
        Assert.Equal(["outer", "attempt", "inner", "attempt", "inner"], log);
        Assert.Equal(["outer", "Retry", "attempt", "inner"], pipeline.Describe().Select(static d => d.Kind));
        Assert.IsType<Recording>(pipeline.Describe()[0].Options);
    }

    [Fact]
    public async Task AddLayer_LayerShortCircuits_ItsOutcomeIsTheCallsOutcome()
    {
        var pipeline = new ResiliencePipelineBuilder("ctx").AddLayer(CustomLayerPosition.Outer, new Refusing()).Build();

        var outcome = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);

        Assert.Equal("refused by layer", Assert.IsType<InvalidOperationException>(outcome.Exception).Message);
    }

    [Fact]
    public async Task FaultInjection_EnabledGeneratorAndRunTimeRate_DecidePerCall()
    {
        var injector = new FaultInjector(new FaultInjectionOptions { Enabled = true, ExceptionRate = 1, EnabledGenerator = static ctx => ctx.OperationKey == "chaos" });
        var pipeline = new ResiliencePipelineBuilder("ctx").AddFaultInjection(injector).Build();

        var spared = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), ResilienceContextPool.Shared.Get("calm"), 0);
        var hit = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), ResilienceContextPool.Shared.Get("chaos"), 0);
        injector.ExceptionRate = 0;
        var afterChange = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), ResilienceContextPool.Shared.Get("chaos"), 0);

        Assert.False(spared.HasException);
        Assert.IsType<InjectedFaultException>(hit.Exception);
        Assert.False(afterChange.HasException);
        Assert.Throws<ArgumentOutOfRangeException>(() => injector.LatencyRate = 1.5);
    }

    [Fact]
    public async Task Fallback_KeyedByOperationKey_OnFallbackCalled_AndAgedOnThePipelinesClock()
    {
        var time = new FakeTimeProvider();
        var served = new List<(string Key, TimeSpan Age)>();
        var cache = new CachedFallback<string, int>("prices", new CachedFallbackOptions { MaxStaleness = TimeSpan.FromMinutes(10), OnFallback = a => served.Add((a.Key, a.Age)) });
        var pipeline = new ResiliencePipelineBuilder<int>("prices") { TimeProvider = time }.AddFallback(cache).Build();

        Assert.Equal(5, await pipeline.ExecuteAsync(static (_, v) => new ValueTask<int>(v), ResilienceContextPool.Shared.Get("EUR"), 5));
        time.Advance(TimeSpan.FromMinutes(3));
        var stale = await pipeline.ExecuteAsync(static (_, _) => ValueTask.FromException<int>(new InvalidOperationException("down")), ResilienceContextPool.Shared.Get("EUR"), 0);

        Assert.Equal(5, stale);
        Assert.Equal([("EUR", TimeSpan.FromMinutes(3))], served);
    }

    [Fact]
    public async Task Refusals_DeriveFromExecutionRejectedException_WithRetryAfter()
    {
        var time = new FakeTimeProvider();
        var breaker = new CircuitBreaker("b", new CircuitBreakerOptions { FailureThreshold = 1, BreakDuration = TimeSpan.FromSeconds(30) }, time);
        var pipeline = new ResiliencePipelineBuilder("ctx") { TimeProvider = time }.AddCircuitBreaker(breaker).Build();
        _ = await pipeline.ExecuteOutcomeAsync(static (_, _) => ValueTask.FromException<int>(new InvalidOperationException()), 0, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(10));

        var refused = await Assert.ThrowsAnyAsync<ExecutionRejectedException>(() => pipeline.ExecuteAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None).AsTask());

        Assert.IsType<BrokenCircuitException>(refused);
        Assert.Equal(TimeSpan.FromSeconds(20), refused.RetryAfter);
    }

    private sealed class Recording(string name, List<string> log) : ResilienceLayer
    {
        public override string Name => name;

        protected internal override ValueTask<Outcome<TResult>> InvokeAsync<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
        {
            log.Add(name);
            return callback(context, state);
        }
    }

    private sealed class Refusing : ResilienceLayer
    {
        public override string Name => "refusing";

        protected internal override ValueTask<Outcome<TResult>> InvokeAsync<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state) =>
            new(Outcome.FromException<TResult>(new InvalidOperationException("refused by layer")));
    }
}
