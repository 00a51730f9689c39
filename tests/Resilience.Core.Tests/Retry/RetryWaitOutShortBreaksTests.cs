using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Retry;

namespace Resilience.Core.Tests.Retry;

/// <summary><see cref="RetryOptions.WaitOutShortBreaks"/>: a refusal waits for the next probe while the break is short, and fails at once after.</summary>
public sealed class RetryWaitOutShortBreaksTests
{
    private readonly FakeTimeProvider _time = new();

    private global::Resilience.CircuitBreaking.CircuitBreaker CreateBreaker() => new("db", new CircuitBreakerOptions
    {
        FailureThreshold = 1,
        BreakDuration = TimeSpan.FromMilliseconds(250),
        BreakDurationFactor = 4,
        MaxBreakDuration = TimeSpan.FromSeconds(5),
    }, _time);

    private ResiliencePipeline CreatePipeline(global::Resilience.CircuitBreaking.CircuitBreaker breaker, bool waitOut, int maxRetries = 5) =>
        new ResiliencePipelineBuilder("db") { TimeProvider = _time }
            .AddRetry(new RetryOptions
            {
                MaxRetries = maxRetries,
                BaseDelay = TimeSpan.FromMilliseconds(100),
                MaxDelay = TimeSpan.FromSeconds(2),
                Jitter = RetryJitter.None,
                WaitOutShortBreaks = waitOut,
            })
            .AddCircuitBreaker(breaker)
            .Build();

    [Fact]
    public async Task Execute_BlipShorterThanRetries_RefusalsWaitForProbeAndCallSucceeds()
    {
        var breaker = CreateBreaker();
        var pipeline = CreatePipeline(breaker, waitOut: true);
        var dependency = new Dependency(failures: 1); // the first attempt fails and opens the circuit (250 ms break)

        var outcome = await TimeDriver.RunAsync(
            _time, pipeline.ExecuteOutcomeAsync(static (d, _) => d.CallAsync(), dependency, CancellationToken.None), TimeSpan.FromMilliseconds(10));

        // The first attempt fails and opens the circuit (250 ms); the retry after 100 ms is refused without reaching the
        // dependency and waits for the probe due at 250 ms (not another short backoff), which succeeds.
        Assert.False(outcome.HasException);
        Assert.Equal(2, dependency.Calls);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(2L, pipeline.RetryStatistics!.GetSnapshot().TotalRetries);
    }

    [Fact]
    public async Task Execute_WithoutWaitOut_RefusalFailsTheCallAtOnce()
    {
        var breaker = CreateBreaker();
        var pipeline = CreatePipeline(breaker, waitOut: false);
        var dependency = new Dependency(failures: 1);

        var outcome = await TimeDriver.RunAsync(
            _time, pipeline.ExecuteOutcomeAsync(static (d, _) => d.CallAsync(), dependency, CancellationToken.None), TimeSpan.FromMilliseconds(10));

        Assert.IsType<BrokenCircuitException>(outcome.Exception);
        Assert.Equal(1, dependency.Calls);
    }

    [Fact]
    public async Task Execute_BreakGrownBeyondMaxDelay_RefusalFailsAtOnce()
    {
        var breaker = CreateBreaker();
        var pipeline = CreatePipeline(breaker, waitOut: true);
        var dependency = new Dependency(failures: int.MaxValue);
        Assert.True(breaker.TryAcquire(out var first));
        first.Failed(new InvalidOperationException("down")); // open, 250 ms
        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(breaker.TryAcquire(out var probe));
        probe.Failed(new InvalidOperationException("down")); // 1 s
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(breaker.TryAcquire(out probe));
        probe.Failed(new InvalidOperationException("down")); // 4 s: beyond the retry's 2 s MaxDelay

        var outcome = await pipeline.ExecuteOutcomeAsync(static (d, _) => d.CallAsync(), dependency, CancellationToken.None);

        Assert.IsType<BrokenCircuitException>(outcome.Exception);
        Assert.Equal(0, dependency.Calls);
        Assert.Equal(0L, pipeline.RetryStatistics!.GetSnapshot().TotalRetries);
    }

    [Fact]
    public async Task Execute_ProbeFailsThenSucceeds_EachRetryWaitsForTheNextProbe()
    {
        var breaker = CreateBreaker();
        var pipeline = CreatePipeline(breaker, waitOut: true);
        var dependency = new Dependency(failures: 2); // the first attempt and the first probe fail: break 250 ms, then 1 s

        var outcome = await TimeDriver.RunAsync(
            _time, pipeline.ExecuteOutcomeAsync(static (d, _) => d.CallAsync(), dependency, CancellationToken.None), TimeSpan.FromMilliseconds(10));

        // Fail (opens), refused → waits for the probe, probe fails (1 s break), refused → waits for the next probe, which succeeds:
        // one refusal per break, so five retries outlast a second of outage instead of burning out on refusals in a row.
        Assert.False(outcome.HasException);
        Assert.Equal(3, dependency.Calls);
        Assert.Equal(4L, pipeline.RetryStatistics!.GetSnapshot().TotalRetries);
    }

    [Fact]
    public async Task Execute_OneRetryLeftAndOutageOutlastsSeveralBreaks_RefusalsDoNotUseUpRetries()
    {
        var breaker = CreateBreaker();
        var pipeline = CreatePipeline(breaker, waitOut: true, maxRetries: 1);
        var dependency = new Dependency(failures: 1);

        // Another caller's probe fails twice while this call waits: breaks of 250 ms, then 1 s.
        var call = pipeline.ExecuteOutcomeAsync(static (d, _) => d.CallAsync(), dependency, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(breaker.TryAcquire(out var probe));
        probe.Failed(new InvalidOperationException("down"));
        var outcome = await TimeDriver.RunAsync(_time, new ValueTask<VoidResult>(call.ContinueWith(static t => t.Result.HasException ? throw t.Result.Exception! : default(VoidResult), TaskScheduler.Default)), TimeSpan.FromMilliseconds(10));

        Assert.Equal(default, outcome);
        Assert.Equal(2, dependency.Calls); // the failure that opened the circuit, then success after the second break
    }

    [Fact]
    public async Task Execute_CircuitClosedBeforeTheProbeIsDue_WaitingCallGoesAtOnce()
    {
        var breaker = CreateBreaker();
        var pipeline = CreatePipeline(breaker, waitOut: true);
        var dependency = new Dependency(failures: 0);
        Assert.True(breaker.TryAcquire(out var first));
        first.Failed(new InvalidOperationException("down")); // open: the next probe is due in 250 ms
        var started = _time.GetUtcNow();

        // Refused at once, the call waits for the probe (350 ms); the circuit closes first (an adapter's watch saw the
        // dependency answer, or an operator reset it), so the call goes now, not 350 ms of fake time later.
        var call = pipeline.ExecuteOutcomeAsync(static (d, _) => d.CallAsync(), dependency, CancellationToken.None).AsTask();
        Assert.False(call.IsCompleted);
        breaker.Reset();
        var outcome = await call.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(outcome.HasException);
        Assert.Equal(1, dependency.Calls);
        Assert.Equal(started, _time.GetUtcNow());
    }

    [Fact]
    public async Task Execute_RefusedWhileAnotherCallProbes_GoesWhenTheProbeClosesTheCircuit()
    {
        var breaker = CreateBreaker();
        var pipeline = CreatePipeline(breaker, waitOut: true);
        var dependency = new Dependency(failures: 0);
        Assert.True(breaker.TryAcquire(out var first));
        first.Failed(new InvalidOperationException("down"));
        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(breaker.TryAcquire(out var probe)); // another caller's probe is in flight: this call is refused

        var call = pipeline.ExecuteOutcomeAsync(static (d, _) => d.CallAsync(), dependency, CancellationToken.None).AsTask();
        Assert.False(call.IsCompleted);
        probe.Succeeded(); // closes the circuit
        var outcome = await call.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(outcome.HasException);
        Assert.Equal(1, dependency.Calls);
    }

    [Fact]
    public async Task Execute_Synchronous_CircuitClosedEarly_BlockedCallGoesAtOnce()
    {
        // The system clock: a synchronous call then blocks its own thread in the wait, and closing the circuit must end that too.
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("db", new CircuitBreakerOptions { FailureThreshold = 1, BreakDuration = TimeSpan.FromMinutes(1) });
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pipeline = new ResiliencePipelineBuilder("db")
            .AddRetry(new RetryOptions
            {
                MaxRetries = 1,
                MaxDelay = TimeSpan.FromMinutes(2),
                WaitOutShortBreaks = true,
                OnRetry = _ => waiting.TrySetResult(),
            })
            .AddCircuitBreaker(breaker)
            .Build();
        var dependency = new Dependency(failures: 0);
        Assert.True(breaker.TryAcquire(out var first));
        first.Failed(new InvalidOperationException("down"));

        var call = Task.Run(() => pipeline.Execute(static (d, _) => d.Call(), dependency));
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(30)); // refused, about to wait a minute for the probe
        breaker.Reset();

        Assert.True(await call.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, dependency.Calls);
    }

    [Fact]
    public void Copy_KeepsWaitOutShortBreaks()
    {
        Assert.True(new RetryOptions(new RetryOptions { WaitOutShortBreaks = true }).WaitOutShortBreaks);
        Assert.False(new RetryOptions().WaitOutShortBreaks);
    }

    private sealed class Dependency(int failures)
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public bool Call() => Interlocked.Increment(ref _calls) <= failures ? throw new InvalidOperationException("down") : true;

        public ValueTask<bool> CallAsync() => Interlocked.Increment(ref _calls) <= failures
            ? ValueTask.FromException<bool>(new InvalidOperationException("down"))
            : new ValueTask<bool>(true);
    }
}
