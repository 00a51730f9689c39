using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;

namespace Resilience.Core.Tests.Pipeline;

/// <summary>
/// A pipeline whose only layer is a breaker runs <c>ExecuteAsync</c> on a path of its own (the gate straight around the
/// operation, no outcome in between): each way a call can end must still reach the breaker and the caller unchanged.
/// </summary>
public sealed class SoleGatePipelineTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task SynchronousThrow_FaultsTheTask_AndCountsAsFailure()
    {
        var (breaker, pipeline) = Build(failureThreshold: 1);
        var boom = new InvalidOperationException("boom");

        var call = pipeline.ExecuteAsync<InvalidOperationException, int>(static (e, _) => throw e, boom, CancellationToken.None);

        Assert.Same(boom, await Assert.ThrowsAsync<InvalidOperationException>(async () => await call));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task AsynchronousFailure_IsRethrown_AndCountsWhenItEnds()
    {
        var (breaker, pipeline) = Build(failureThreshold: 1);
        var pending = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = pipeline.ExecuteAsync(static (p, _) => new ValueTask<int>(p.Task), pending, CancellationToken.None);
        Assert.Equal(CircuitState.Closed, breaker.State);

        var boom = new InvalidOperationException("late");
        pending.SetException(boom);

        Assert.Same(boom, await Assert.ThrowsAsync<InvalidOperationException>(async () => await call));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task AsynchronousSuccess_ClearsPendingFailures()
    {
        var (breaker, pipeline) = Build(failureThreshold: 2);
        await Fail(pipeline);
        var pending = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = pipeline.ExecuteAsync(static (p, _) => new ValueTask<int>(p.Task), pending, CancellationToken.None);

        pending.SetResult(7);
        Assert.Equal(7, await call);
        await Fail(pipeline);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(1, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public async Task HandledResult_IsReturned_AndCountsAsFailure()
    {
        var breaker = NewBreaker(failureThreshold: 1);
        var pipeline = new ResiliencePipelineBuilder<int>("db") { TimeProvider = _time }
            .ShouldHandleResult(static r => r < 0)
            .AddCircuitBreaker(breaker)
            .Build();

        Assert.Equal(-1, await pipeline.ExecuteAsync(static (_, _) => new ValueTask<int>(-1), 0, CancellationToken.None));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task CallerCancellation_IsNotAFailure()
    {
        var (breaker, pipeline) = Build(failureThreshold: 1);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await pipeline.ExecuteAsync(static (_, ct) => ValueTask.FromCanceled<int>(ct), 0, cancelled.Token));

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public async Task OpenCircuit_ThrowsItsOwnRejection_WithoutRunningTheOperation()
    {
        var (breaker, pipeline) = Build(failureThreshold: 1);
        await Fail(pipeline);
        var calls = new Box();

        var first = await Assert.ThrowsAsync<BrokenCircuitException>(async () =>
            await pipeline.ExecuteAsync(static (c, _) => new ValueTask<int>(Interlocked.Increment(ref c.Value)), calls, CancellationToken.None));
        var second = await Assert.ThrowsAsync<BrokenCircuitException>(async () =>
            await pipeline.ExecuteAsync(static (c, _) => new ValueTask<int>(Interlocked.Increment(ref c.Value)), calls, CancellationToken.None));

        // Each caller gets its own exception to throw: a shared one would collect every thrower's stack trace.
        Assert.NotSame(first, second);
        Assert.Equal(0, calls.Value);
        Assert.Equal(CircuitState.Open, first.State);
        Assert.Equal(2, breaker.GetSnapshot().Rejections);
    }

    private static Task<InvalidOperationException> Fail(ResiliencePipeline pipeline) =>
        Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync(static (_, _) => ValueTask.FromException<int>(new InvalidOperationException("fail")), 0, CancellationToken.None));

    private CircuitBreaker NewBreaker(int failureThreshold) =>
        new("db", new CircuitBreakerOptions { Mode = CircuitBreakerMode.ConsecutiveFailures, FailureThreshold = failureThreshold }, _time);

    private (CircuitBreaker Breaker, ResiliencePipeline Pipeline) Build(int failureThreshold)
    {
        var breaker = NewBreaker(failureThreshold);
        return (breaker, new ResiliencePipelineBuilder("db") { TimeProvider = _time }.AddCircuitBreaker(breaker).Build());
    }

    private sealed class Box
    {
        public int Value;
    }
}
