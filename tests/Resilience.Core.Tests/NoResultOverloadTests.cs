using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience.Core.Tests;

/// <summary>Every entry point with result overloads also takes operations that return nothing (sync and async).</summary>
public sealed class NoResultOverloadTests
{
    private readonly FakeTimeProvider _time = new();

    private sealed class Calls
    {
        public int Count;

        public async ValueTask FailFirstAsync(CancellationToken cancellationToken)
        {
            await Task.Yield();
            if (++Count == 1)
            {
                throw new InvalidOperationException("first");
            }
        }

        public void FailFirst(CancellationToken cancellationToken)
        {
            if (++Count == 1)
            {
                throw new InvalidOperationException("first");
            }
        }
    }

    private static RetryOptions NoDelay() => new() { MaxRetries = 2, BaseDelay = TimeSpan.Zero, Jitter = RetryJitter.None, Backoff = RetryBackoff.Constant };

    [Fact]
    public async Task RetryStrategy_NoResultAsyncAndSync_RetriesTheFailure()
    {
        var strategy = new RetryStrategy(NoDelay(), _time);
        var asyncCalls = new Calls();
        var syncCalls = new Calls();
        var outcomeCalls = new Calls();

        await strategy.ExecuteAsync(static (c, ct) => c.FailFirstAsync(ct), asyncCalls);
        strategy.Execute(static (c, ct) => c.FailFirst(ct), syncCalls);
        var outcome = await strategy.ExecuteOutcomeAsync(static (c, ct) => c.FailFirstAsync(ct), outcomeCalls);

        Assert.Equal(2, asyncCalls.Count);
        Assert.Equal(2, syncCalls.Count);
        Assert.False(outcome.HasException);
        Assert.Equal(3, strategy.Statistics.GetSnapshot().RetriedSuccesses);
    }

    [Fact]
    public async Task CircuitBreaker_NoResultFailures_OpenTheCircuitAndRejectionsSurface()
    {
        var breaker = new CircuitBreaking.CircuitBreaker("db", new CircuitBreakerOptions { FailureThreshold = 2 }, _time);

        await Assert.ThrowsAsync<InvalidOperationException>(() => breaker.ExecuteAsync(static (c, ct) => c.FailFirstAsync(ct), new Calls(), CancellationToken.None).AsTask());
        Assert.Throws<InvalidOperationException>(() => breaker.Execute(static c => c.FailFirst(CancellationToken.None), new Calls()));

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Throws<BrokenCircuitException>(() => breaker.Execute(static () => { }));
        var outcome = await breaker.ExecuteOutcomeAsync(static (_, _) => ValueTask.CompletedTask, 0, CancellationToken.None);
        Assert.IsType<BrokenCircuitException>(outcome.Exception);
        await Assert.ThrowsAsync<BrokenCircuitException>(() => breaker.ExecuteAsync(static _ => ValueTask.CompletedTask, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task TimeoutStrategy_NoResultOperationBlocksPastTheLimit_ThrowsTimeout()
    {
        var strategy = new TimeoutStrategy(new TimeoutOptions { Timeout = TimeSpan.FromSeconds(1) }, _time);

        var ex = await Assert.ThrowsAsync<OperationTimeoutException>(() => strategy.ExecuteAsync(static (t, ct) =>
        {
            t.Advance(TimeSpan.FromSeconds(2));
            ct.ThrowIfCancellationRequested();
            return ValueTask.CompletedTask;
        }, _time, CancellationToken.None).AsTask());
        var outcome = await strategy.ExecuteOutcomeAsync(static (_, _) => ValueTask.CompletedTask, 0, CancellationToken.None);

        Assert.Equal(TimeoutKind.Attempt, ex.Kind);
        Assert.False(outcome.HasException);
    }

    [Fact]
    public async Task Pipeline_NoResultAsyncAndSync_RetriedAndTimedOut()
    {
        var pipeline = new ResiliencePipelineBuilder("db") { TimeProvider = _time }
            .AddRetry(NoDelay())
            .AddAttemptTimeout(TimeSpan.FromSeconds(1))
            .Build();
        var asyncCalls = new Calls();
        var syncCalls = new Calls();

        await pipeline.ExecuteAsync(static (c, ct) => c.FailFirstAsync(ct), asyncCalls, CancellationToken.None);
        pipeline.Execute(static (c, ct) => c.FailFirst(ct), syncCalls);
        var outcome = await pipeline.ExecuteOutcomeAsync(static (t, ct) =>
        {
            t.Advance(TimeSpan.FromSeconds(2));
            ct.ThrowIfCancellationRequested();
            return ValueTask.CompletedTask;
        }, _time, CancellationToken.None);
        await pipeline.ExecuteAsync(static _ => ValueTask.CompletedTask, CancellationToken.None);

        Assert.Equal(2, asyncCalls.Count);
        Assert.Equal(2, syncCalls.Count);
        Assert.IsType<OperationTimeoutException>(outcome.Exception);
    }
}
