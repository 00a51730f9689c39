using Microsoft.Extensions.Time.Testing;
using Resilience.Retry;

namespace Resilience.Core.Tests.Retry;

public sealed class RetryStrategyTests
{
    private readonly FakeTimeProvider _time = new();

    private static RetryOptions NoDelay(int maxRetries = 3) => new()
    {
        MaxRetries = maxRetries,
        BaseDelay = TimeSpan.Zero,
        MaxDelay = TimeSpan.Zero,
        Backoff = RetryBackoff.Constant,
        Jitter = RetryJitter.None,
    };

    private sealed class Flaky(int failures, Func<Exception>? error = null)
    {
        public int Calls;

        public ValueTask<int> RunAsync(CancellationToken ct)
        {
            Calls++;
            return Calls <= failures ? ValueTask.FromException<int>((error ?? (() => new TimeoutException()))()) : new ValueTask<int>(Calls);
        }
    }

    [Fact]
    public async Task ExecuteAsync_FailsTwiceThenSucceeds_ReturnsResultAndCountsRetriedSuccess()
    {
        var strategy = new RetryOnly(NoDelay(), _time);
        var flaky = new Flaky(2);

        int result = await strategy.ExecuteAsync(static (f, ct) => f.RunAsync(ct), flaky);

        Assert.Equal(3, result);
        var stats = strategy.Statistics.GetSnapshot();
        Assert.Equal(1, stats.RetriedSuccesses);
        Assert.Equal(2, stats.TotalRetries);
        Assert.Equal(1, stats.Calls);
        Assert.Equal(1.0, stats.SuccessRate);
    }

    [Fact]
    public async Task ExecuteAsync_ExhaustedRetries_ThrowsLastFailure()
    {
        var strategy = new RetryOnly(NoDelay(2), _time);
        int calls = 0;

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => strategy.ExecuteAsync<int>(_ =>
        {
            calls++;
            throw new InvalidOperationException("failure " + calls);
        }).AsTask());

        Assert.Equal("failure 3", ex.Message);
        Assert.Equal(3, calls);
        var stats = strategy.Statistics.GetSnapshot();
        Assert.Equal(1, stats.Exhausted);
        Assert.Equal(0.0, stats.SuccessRate);
    }

    [Fact]
    public async Task ExecuteAsync_ExceptionPredicateFalse_DoesNotRetry()
    {
        var options = NoDelay();
        options.ShouldHandle = static ex => ex is TimeoutException;
        var strategy = new RetryOnly(options, _time);
        var flaky = new Flaky(5, () => new ArgumentException("bad input"));

        await Assert.ThrowsAsync<ArgumentException>(() => strategy.ExecuteAsync(static (f, ct) => f.RunAsync(ct), flaky).AsTask());

        Assert.Equal(1, flaky.Calls);
        Assert.Equal(1, strategy.Statistics.GetSnapshot().NotRetried);
    }

    [Fact]
    public async Task ExecuteOutcomeAsync_TypedResultPredicate_RetriesResultsAndSurfacesLastResult()
    {
        var options = new RetryOptions<int>(NoDelay(2)) { ShouldHandleOutcome = static o => o.HasException || o.Result >= 500 };
        var strategy = new RetryOnly(options, _time);
        int calls = 0;

        var outcome = await strategy.ExecuteOutcomeAsync(static (c, _) => new ValueTask<int>(500 + Interlocked.Increment(ref c.Value)), new Box { Value = calls });

        Assert.False(outcome.HasException);
        Assert.Equal(503, outcome.Result);
        Assert.Equal(1, strategy.Statistics.GetSnapshot().Exhausted);
    }

    private sealed class Box
    {
        public int Value;
    }

    [Fact]
    public async Task ExecuteAsync_OperationCanceledByCaller_IsNotRetried()
    {
        var options = NoDelay();
        options.ShouldHandle = static _ => true;
        var strategy = new RetryOnly(options, _time);
        using var cts = new CancellationTokenSource();
        int calls = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => strategy.ExecuteAsync<int>(_ =>
        {
            calls++;
            cts.Cancel();
            throw new InvalidOperationException();
        }, cts.Token).AsTask());

        Assert.Equal(1, calls);
        Assert.Equal(0, strategy.Statistics.GetSnapshot().TotalRetries);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancelsDuringDelay_ThrowsOperationCanceledWithoutAnotherAttempt()
    {
        var options = new RetryOptions { BaseDelay = TimeSpan.FromSeconds(10), Backoff = RetryBackoff.Constant, Jitter = RetryJitter.None };
        var strategy = new RetryOnly(options, _time);
        using var cts = new CancellationTokenSource();
        int calls = 0;

        var task = strategy.ExecuteAsync<int>(_ =>
        {
            calls++;
            throw new TimeoutException();
        }, cts.Token).AsTask();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(task.IsCompleted);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task ExecuteAsync_WaitsComputedDelayOnTimeProvider()
    {
        var options = new RetryOptions { BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10), Jitter = RetryJitter.None };
        var strategy = new RetryOnly(options, _time);
        using var attempts = new SemaphoreSlim(0);
        int calls = 0;

        var task = strategy.ExecuteAsync(_ =>
        {
            int call = Interlocked.Increment(ref calls);
            attempts.Release();
            return call < 3 ? ValueTask.FromException<int>(new TimeoutException()) : new ValueTask<int>(call);
        }).AsTask();

        Assert.True(await attempts.WaitAsync(TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(await attempts.WaitAsync(TimeSpan.Zero));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await attempts.WaitAsync(TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(await attempts.WaitAsync(TimeSpan.Zero));
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(3, await task);
    }

    [Fact]
    public async Task ExecuteAsync_RetryAfterHint_ReplacesComputedDelay_AndIsCapped()
    {
        var delays = new List<TimeSpan>();
        var hints = new Queue<TimeSpan>([TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(5)]);
        var options = new RetryOptions<int>
        {
            BaseDelay = TimeSpan.FromMilliseconds(100),
            MaxDelay = TimeSpan.FromSeconds(20),
            Jitter = RetryJitter.None,
            RetryAfter = _ => hints.Dequeue(),
            OnRetry = args => delays.Add(args.Delay),
        };
        var strategy = new RetryOnly(options, _time);
        var flaky = new Flaky(2);

        int result = await TimeDriver.RunAsync(_time, strategy.ExecuteAsync(static (f, ct) => f.RunAsync(ct), flaky), TimeSpan.FromSeconds(1));

        Assert.Equal(3, result);
        Assert.Equal([TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(20)], delays);
    }

    [Fact]
    public async Task ExecuteAsync_NullRetryAfterHint_UsesComputedDelay()
    {
        var delays = new List<TimeSpan>();
        var options = new RetryOptions<int>
        {
            BaseDelay = TimeSpan.FromMilliseconds(100),
            Jitter = RetryJitter.None,
            RetryAfter = static _ => null,
            OnRetry = args => delays.Add(args.Delay),
        };
        var strategy = new RetryOnly(options, _time);

        await TimeDriver.RunAsync(_time, strategy.ExecuteAsync(static (f, ct) => f.RunAsync(ct), new Flaky(2)), TimeSpan.FromMilliseconds(50));

        Assert.Equal([TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)], delays);
    }

    [Fact]
    public async Task OnRetry_ReceivesAttemptDelayAndOutcome()
    {
        var seen = new List<(int Attempt, string? Message)>();
        var options = new RetryOptions<int>(NoDelay()) { OnRetry = a => seen.Add((a.Attempt, a.Exception?.Message)) };
        var strategy = new RetryOnly(options, _time);
        int calls = 0;

        await strategy.ExecuteAsync(_ => ++calls < 3 ? throw new TimeoutException("t" + calls) : new ValueTask<int>(calls));

        Assert.Equal([(1, "t1"), (2, "t2")], seen);
    }

    [Fact]
    public async Task ExecuteAsync_EmptyBudget_SurfacesFailureWithoutRetryAndCounts()
    {
        var budget = new RetryBudget(new RetryBudgetOptions { MaxTokens = 1, DepositPerSuccess = 0.5, MinRetriesPerSecond = 0 }, _time);
        var options = NoDelay(5);
        options.Budget = budget;
        var strategy = new RetryOnly(options, _time);

        var first = new Flaky(10);
        await Assert.ThrowsAsync<TimeoutException>(() => strategy.ExecuteAsync(static (f, ct) => f.RunAsync(ct), first).AsTask());

        Assert.Equal(2, first.Calls);
        Assert.Equal(1, strategy.Statistics.GetSnapshot().BudgetRejections);
        Assert.Equal(1, budget.Rejections);

        // Two successes deposit one token, enough for one more retry.
        await strategy.ExecuteAsync(static _ => new ValueTask<int>(1));
        await strategy.ExecuteAsync(static _ => new ValueTask<int>(1));
        Assert.Equal(1.0, budget.AvailableTokens);
        var second = new Flaky(1);
        Assert.Equal(2, await strategy.ExecuteAsync(static (f, ct) => f.RunAsync(ct), second));
        Assert.Equal(0.5, budget.AvailableTokens);
    }

    [Fact]
    public void Execute_Sync_RetriesAndReturns()
    {
        var strategy = new RetryOnly(NoDelay(), _time);
        int calls = 0;

        int result = strategy.Execute(static (box, _) => ++box.Value < 3 ? throw new TimeoutException() : box.Value, new Box { Value = calls });

        Assert.Equal(3, result);
        Assert.Equal(1, strategy.Statistics.GetSnapshot().RetriedSuccesses);
    }

    [Fact]
    public void Execute_Sync_ExhaustedThrowsLastFailure()
    {
        var strategy = new RetryOnly(NoDelay(1), _time);
        Assert.Throws<TimeoutException>(() => strategy.Execute<int, int>(static (_, _) => throw new TimeoutException(), 0));
        Assert.Equal(2, strategy.Statistics.GetSnapshot().TotalRetries + 1);
    }

    [Fact]
    public async Task ExecuteAsync_TypedOptionsWithOtherResultType_ThrowsInvalidOperation()
    {
        var strategy = new RetryOnly(new RetryOptions<int>(NoDelay()), _time);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => strategy.ExecuteAsync(static _ => new ValueTask<string>("x")).AsTask());
        Assert.Contains("RetryOptions<Int32>", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_AsynchronousCompletion_RetriesAndCountsFirstTrySuccess()
    {
        var strategy = new RetryOnly(NoDelay(), _time);
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        var task = strategy.ExecuteAsync(static (g, _) => new ValueTask<int>(g.Task), gate).AsTask();
        gate.SetResult(7);

        Assert.Equal(7, await task);
        Assert.Equal(1, strategy.Statistics.GetSnapshot().FirstTrySuccesses);
    }

    [Fact]
    public async Task Statistics_MixedCalls_SnapshotAddsUp()
    {
        var options = NoDelay(1);
        options.ShouldHandle = static ex => ex is TimeoutException;
        var strategy = new RetryOnly(options, _time);

        await strategy.ExecuteAsync(static _ => new ValueTask<int>(1));
        await strategy.ExecuteAsync(static (f, ct) => f.RunAsync(ct), new Flaky(1));
        await Assert.ThrowsAsync<TimeoutException>(() => strategy.ExecuteAsync(static (f, ct) => f.RunAsync(ct), new Flaky(9)).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => strategy.ExecuteAsync(static (f, ct) => f.RunAsync(ct), new Flaky(9, () => new ArgumentException())).AsTask());

        var s = strategy.Statistics.GetSnapshot();
        Assert.Equal((4L, 1L, 1L, 1L, 1L, 2L), (s.Calls, s.FirstTrySuccesses, s.RetriedSuccesses, s.Exhausted, s.NotRetried, s.TotalRetries));
        Assert.Equal(0.5, s.SuccessRate);
    }
}
