using System.Threading.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Core.Tests.Retry;
using Resilience.Fallback;
using Resilience.RateLimiting;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience.Core.Tests.Pipeline;

public sealed class ResiliencePipelineTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task AttemptTimeout_CountsAsBreakerFailure_AndIsRetried()
    {
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("db", new CircuitBreakerOptions { FailureThreshold = 2 }, _time);
        var pipeline = new ResiliencePipelineBuilder<int>("db") { TimeProvider = _time }
            .AddRetry(new RetryOptions { MaxRetries = 1, BaseDelay = TimeSpan.Zero, Jitter = RetryJitter.None })
            .AddCircuitBreaker(breaker)
            .AddAttemptTimeout(TimeSpan.FromSeconds(1))
            .Build();
        var calls = new Counter();

        var outcome = await TimeDriver.RunAsync(
            _time, pipeline.ExecuteOutcomeAsync(static (c, ct) => c.HangAsync(ct), calls, CancellationToken.None), TimeSpan.FromMilliseconds(100));

        var timeout = Assert.IsType<OperationTimeoutException>(outcome.Exception);
        Assert.Equal(TimeoutKind.Attempt, timeout.Kind);
        Assert.Equal(2, calls.Value);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task TotalTimeout_FiresDuringAttempt_WithTotalTimeoutError()
    {
        var pipeline = new ResiliencePipelineBuilder<int>("api") { TimeProvider = _time }
            .AddTotalTimeout(TimeSpan.FromSeconds(5))
            .AddRetry(new RetryOptions { MaxRetries = 5, BaseDelay = TimeSpan.FromSeconds(1), Backoff = RetryBackoff.Constant, Jitter = RetryJitter.None })
            .Build();
        var calls = new Counter();

        var outcome = await TimeDriver.RunAsync(
            _time, pipeline.ExecuteOutcomeAsync(static (c, ct) => c.HangAsync(ct), calls, CancellationToken.None), TimeSpan.FromSeconds(1));

        var timeout = Assert.IsType<OperationTimeoutException>(outcome.Exception);
        Assert.Equal(TimeoutKind.Total, timeout.Kind);
        Assert.Equal(1, calls.Value);
    }

    [Fact]
    public async Task OpenCircuit_IsNotRetried_AndOperationNeverRuns()
    {
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("db", new CircuitBreakerOptions(), _time);
        breaker.Isolate();
        var pipeline = new ResiliencePipelineBuilder("db") { TimeProvider = _time }
            .AddRetry(new RetryOptions { MaxRetries = 3, BaseDelay = TimeSpan.Zero })
            .AddCircuitBreaker(breaker)
            .Build();
        var calls = new Counter();

        var outcome = await pipeline.ExecuteOutcomeAsync(static (c, _) => c.SucceedAsync(), calls, CancellationToken.None);

        Assert.IsType<BrokenCircuitException>(outcome.Exception);
        Assert.Equal(0, calls.Value);
        Assert.Equal(0, pipeline.RetryStatistics!.GetSnapshot().TotalRetries);
    }

    [Fact]
    public async Task Fallback_CatchesOpenCircuit_ServingStaleValueWithAge()
    {
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("prices", new CircuitBreakerOptions(), _time);
        var cache = new CachedFallback<string, int>("prices", new CachedFallbackOptions { MaxStaleness = TimeSpan.FromMinutes(5) }, timeProvider: _time);
        var pipeline = new ResiliencePipelineBuilder<int>("prices") { TimeProvider = _time }
            .AddFallback(cache)
            .AddCircuitBreaker(breaker)
            .Build();
        var calls = new Counter();

        var live = await pipeline.ExecuteWithFallbackAsync("EUR", static (c, _) => c.SucceedAsync(), calls, CancellationToken.None);
        breaker.Isolate();
        _time.Advance(TimeSpan.FromSeconds(30));
        var stale = await pipeline.ExecuteWithFallbackAsync("EUR", static (c, _) => c.SucceedAsync(), calls, CancellationToken.None);
        var unknown = pipeline.ExecuteWithFallbackAsync("USD", static (c, _) => c.SucceedAsync(), calls, CancellationToken.None);

        Assert.Equal(FallbackSource.Live, live.Source);
        Assert.Equal(FallbackSource.Cache, stale.Source);
        Assert.True(stale.IsStale);
        Assert.Equal(TimeSpan.FromSeconds(30), stale.Age);
        Assert.Equal(live.Value, stale.Value);
        await Assert.ThrowsAsync<BrokenCircuitException>(async () => await unknown);
        Assert.Equal(1, calls.Value);
    }

    [Fact]
    public async Task ShouldHandleResult_FailedResultsAreRetried_AndReplacedByFallback()
    {
        var cache = new CachedFallback<string, int>("status", new CachedFallbackOptions(), timeProvider: _time);
        var pipeline = new ResiliencePipelineBuilder<int>("status") { TimeProvider = _time }
            .ShouldHandleResult(static status => status >= 500)
            .AddFallback(cache)
            .AddRetry(new RetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.Zero })
            .Build();
        var script = new Queue<int>([200, 503, 503, 503]);

        var first = await pipeline.ExecuteAsync(static (s, _) => new ValueTask<int>(s.Dequeue()), script, CancellationToken.None);
        var second = await pipeline.ExecuteWithFallbackAsync("", static (s, _) => new ValueTask<int>(s.Dequeue()), script, CancellationToken.None);

        Assert.Equal(200, first);
        Assert.Empty(script);
        Assert.Equal(200, second.Value);
        Assert.True(second.IsStale);
        Assert.Equal(1, pipeline.RetryStatistics!.GetSnapshot().Exhausted);
    }

    [Fact]
    public async Task RateLimiter_RejectsOutermost_WithoutTouchingBreakerOrOperation()
    {
        using var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 0 });
        using var held = limiter.AttemptAcquire();
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("bulkhead", new CircuitBreakerOptions { FailureThreshold = 1 }, _time);
        var pipeline = new ResiliencePipelineBuilder("bulkhead") { TimeProvider = _time }
            .AddRateLimiter(limiter)
            .AddRetry(new RetryOptions { MaxRetries = 3, BaseDelay = TimeSpan.Zero })
            .AddCircuitBreaker(breaker)
            .Build();
        var calls = new Counter();

        var outcome = await pipeline.ExecuteOutcomeAsync(static (c, _) => c.SucceedAsync(), calls, CancellationToken.None);

        Assert.IsType<RateLimiterRejectedException>(outcome.Exception);
        Assert.Equal(0, calls.Value);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task CallerCancellation_IsNotRetried_NorReplacedByFallback()
    {
        var cache = new CachedFallback<string, int>("x", new CachedFallbackOptions(), timeProvider: _time);
        cache.Store("", 7);
        var pipeline = new ResiliencePipelineBuilder<int>("x") { TimeProvider = _time }
            .AddFallback(cache)
            .AddRetry(new RetryOptions { MaxRetries = 3, BaseDelay = TimeSpan.Zero })
            .AddAttemptTimeout(TimeSpan.FromSeconds(10))
            .Build();
        using var caller = new CancellationTokenSource();
        var calls = new Counter();

        var pending = pipeline.ExecuteAsync(static (c, ct) => c.HangAsync(ct), calls, caller.Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        Assert.Equal(1, calls.Value);
        Assert.Equal(0, cache.StaleServed);
    }

    [Fact]
    public void Execute_Sync_RetriesAndReturnsResult()
    {
        var pipeline = new ResiliencePipelineBuilder<int>("sync") { TimeProvider = _time }
            .AddRetry(new RetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.Zero })
            .Build();
        var calls = new Counter();

        var result = pipeline.Execute(static (c, _) => c.Increment() < 3 ? throw new InvalidOperationException("flaky") : 42, calls);

        Assert.Equal(42, result);
        Assert.Equal(3, calls.Value);
    }

    [Fact]
    public async Task AttemptTimeout_SynchronousPrefixCountsAgainstTheLimit()
    {
        var pipeline = new ResiliencePipelineBuilder<int>("prefix") { TimeProvider = _time }
            .AddAttemptTimeout(TimeSpan.FromSeconds(5))
            .Build();

        // The operation spends 3 s before it first yields: only 2 s of the limit are left when the timer is armed.
        var pending = pipeline.ExecuteOutcomeAsync(
            static async (time, ct) =>
            {
                time.Advance(TimeSpan.FromSeconds(3));
                await Task.Delay(Timeout.Infinite, ct);
                return 0;
            },
            _time,
            CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.False(pending.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(0.2));
        var outcome = await pending;

        Assert.Equal(TimeoutKind.Attempt, Assert.IsType<OperationTimeoutException>(outcome.Exception).Kind);
    }

    [Fact]
    public async Task OpenCircuit_ThrowingEdge_ThrowsAFreshExceptionWithTheBreakLeftNow()
    {
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("db", new CircuitBreakerOptions { FailureThreshold = 1, BreakDuration = TimeSpan.FromSeconds(60) }, _time);
        var pipeline = new ResiliencePipelineBuilder("db") { TimeProvider = _time }.AddCircuitBreaker(breaker).Build();
        var calls = new Counter();
        await pipeline.ExecuteOutcomeAsync(static (c, _) => c.FailAsync(), calls, CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(20));
        var first = await Assert.ThrowsAsync<BrokenCircuitException>(async () => await pipeline.ExecuteAsync(static (c, _) => c.SucceedAsync(), calls, CancellationToken.None));
        var second = await Assert.ThrowsAsync<BrokenCircuitException>(async () => await pipeline.ExecuteAsync(static (c, _) => c.SucceedAsync(), calls, CancellationToken.None));
        var shared = (await pipeline.ExecuteOutcomeAsync(static (c, _) => c.SucceedAsync(), calls, CancellationToken.None)).Exception;

        Assert.NotSame(first, second);
        Assert.NotSame(shared, first);
        Assert.Equal(TimeSpan.FromSeconds(40), first.RemainingBreak);
        Assert.Equal(1, calls.Value);
    }

    [Fact]
    public void Build_AttemptTimeoutAboveTotal_Throws()
    {
        var builder = new ResiliencePipelineBuilder("bad").AddTotalTimeout(TimeSpan.FromSeconds(1)).AddAttemptTimeout(TimeSpan.FromSeconds(2));

        var error = Assert.Throws<InvalidOperationException>(() => builder.Build());

        Assert.Contains("attempt timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddAttemptTimeout_NotPositive_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResiliencePipelineBuilder("bad").AddAttemptTimeout(TimeSpan.Zero));

    private sealed class Counter
    {
        private int _value;

        public int Value => Volatile.Read(ref _value);

        public int Increment() => Interlocked.Increment(ref _value);

        public ValueTask<int> SucceedAsync() => new(Increment());

        public ValueTask<int> FailAsync()
        {
            Increment();
            return ValueTask.FromException<int>(new InvalidOperationException("down"));
        }

        public async ValueTask<int> HangAsync(CancellationToken cancellationToken)
        {
            Increment();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }
}
