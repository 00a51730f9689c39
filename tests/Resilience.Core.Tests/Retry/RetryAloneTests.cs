using Microsoft.Extensions.Time.Testing;
using Resilience.Retry;

namespace Resilience.Core.Tests.Retry;

/// <summary>
/// A pipeline whose only layer is a retry runs its first attempt as the operation itself and enters the retry loop only
/// when that attempt failed or has not finished: every way into the loop must retry as the chain does.
/// </summary>
public sealed class RetryAloneTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task FirstTrySuccess_RunsOnce_AndIsCounted()
    {
        var pipeline = Build();
        var attempts = new Attempts();

        Assert.Equal(1, await pipeline.ExecuteAsync(static (a, _) => new ValueTask<int>(++a.Count), attempts, CancellationToken.None));

        Assert.Equal(1, attempts.Count);
        Assert.Equal(1, pipeline.RetryStatistics!.GetSnapshot().FirstTrySuccesses);
    }

    [Fact]
    public async Task SynchronousThrowOnFirstTry_IsRetried()
    {
        var pipeline = Build();
        var attempts = new Attempts();

        var result = await pipeline.ExecuteAsync(
            static (a, _) => ++a.Count == 1 ? throw new InvalidOperationException("first") : new ValueTask<int>(a.Count), attempts, CancellationToken.None);

        Assert.Equal(2, result);
        Assert.Equal(1, pipeline.RetryStatistics!.GetSnapshot().RetriedSuccesses);
    }

    [Fact]
    public async Task UnfinishedFirstTry_ThatFails_IsRetried()
    {
        var pipeline = Build();
        var first = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = new Attempts { First = first };

        var call = pipeline.ExecuteAsync(static (a, _) => ++a.Count == 1 ? new ValueTask<int>(a.First!.Task) : new ValueTask<int>(a.Count), attempts, CancellationToken.None);
        Assert.False(call.IsCompleted);
        first.SetException(new InvalidOperationException("late"));

        Assert.Equal(2, await call);
        Assert.Equal(2, attempts.Count);
    }

    [Fact]
    public async Task HandledResultOnFirstTry_IsRetried()
    {
        var pipeline = new ResiliencePipelineBuilder<int>("api") { TimeProvider = _time }
            .ShouldHandleResult(static r => r < 0)
            .AddRetry(new RetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.Zero })
            .Build();
        var attempts = new Attempts();

        var result = await pipeline.ExecuteAsync(static (a, _) => new ValueTask<int>(++a.Count == 1 ? -1 : a.Count), attempts, CancellationToken.None);

        Assert.Equal(2, result);
        Assert.Equal(1, pipeline.RetryStatistics!.GetSnapshot().RetriedSuccesses);
    }

    [Fact]
    public async Task EveryAttemptFailing_ThrowsTheLastFailure()
    {
        var pipeline = Build();
        var attempts = new Attempts();

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await pipeline.ExecuteAsync<Attempts, int>(static (a, _) => throw new InvalidOperationException($"attempt {++a.Count}"), attempts, CancellationToken.None));

        Assert.Equal("attempt 3", thrown.Message);
        Assert.Equal(1, pipeline.RetryStatistics!.GetSnapshot().Exhausted);
    }

    private ResiliencePipeline Build() =>
        new ResiliencePipelineBuilder("api") { TimeProvider = _time }
            .AddRetry(new RetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.Zero })
            .Build();

    private sealed class Attempts
    {
        public int Count;

        public TaskCompletionSource<int>? First;
    }
}
