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
        var timedOut = await Assert.ThrowsAsync<OperationTimeoutException>(() => pipeline.ExecuteAsync(static (t, ct) =>
        {
            t.Advance(TimeSpan.FromSeconds(2));
            ct.ThrowIfCancellationRequested();
            return ValueTask.CompletedTask;
        }, _time, CancellationToken.None).AsTask());
        await pipeline.ExecuteAsync(static _ => ValueTask.CompletedTask, CancellationToken.None);

        Assert.Equal(2, asyncCalls.Count);
        Assert.Equal(2, syncCalls.Count);
        Assert.Equal(TimeoutKind.Attempt, timedOut.Kind);
    }
}
