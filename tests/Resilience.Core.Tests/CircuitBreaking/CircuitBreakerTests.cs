using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;

namespace Resilience.Core.Tests.CircuitBreaking;

public sealed class CircuitBreakerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<CircuitStateChange> _changes = [];

    private global::Resilience.CircuitBreaking.CircuitBreaker Create(Action<CircuitBreakerOptions>? configure = null)
    {
        var options = new CircuitBreakerOptions { OnStateChanged = c => { lock (_changes) { _changes.Add(c); } } };
        configure?.Invoke(options);
        return new global::Resilience.CircuitBreaking.CircuitBreaker("orders", options, _time);
    }

    internal static void Fail(global::Resilience.CircuitBreaking.CircuitBreaker breaker, int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.True(breaker.TryAcquire(out var permit));
            permit.Failed(new InvalidOperationException("boom"));
        }
    }

    [Fact]
    public void Consecutive_DefaultThresholdReached_Opens()
    {
        var breaker = Create();
        Fail(breaker, 4);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(4, breaker.GetSnapshot().Failures);

        Fail(breaker, 1);

        Assert.Equal(CircuitState.Open, breaker.State);
        var change = Assert.Single(_changes);
        Assert.Equal(CircuitState.Closed, change.From);
        Assert.Equal(CircuitState.Open, change.To);
        Assert.Equal(CircuitTransitionReason.ConsecutiveFailures, change.Reason);
        Assert.Equal(TimeSpan.FromSeconds(60), change.BreakDuration);
        Assert.IsType<InvalidOperationException>(change.Exception);
    }

    [Fact]
    public void Consecutive_SuccessBetweenFailures_ResetsCount()
    {
        var breaker = Create();
        Fail(breaker, 4);
        Assert.True(breaker.TryAcquire(out var permit));
        permit.Succeeded();
        Fail(breaker, 4);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(4, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public void TryAcquire_Open_RefusesWithRemainingBreak()
    {
        var breaker = Create();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(15));

        Assert.False(breaker.TryAcquire(out var permit));
        Assert.False(permit.IsAcquired);
        Assert.Equal(TimeSpan.FromSeconds(45), permit.RemainingBreak);
        permit.Succeeded(); // ignored on a refused permit
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, breaker.GetSnapshot().Rejections);
    }

    [Fact]
    public async Task ExecuteAsync_Open_ThrowsBrokenCircuitWithNameAndRemainingBreak()
    {
        var breaker = Create();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(20));

        var e = await Assert.ThrowsAsync<BrokenCircuitException>(async () =>
            await breaker.ExecuteAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None));

        Assert.Equal("orders", e.BreakerName);
        Assert.Equal(CircuitState.Open, e.State);
        Assert.Equal(TimeSpan.FromSeconds(40), e.RemainingBreak);
        Assert.Throws<BrokenCircuitException>(() => breaker.Execute(static _ => 1, 0));
    }

    [Fact]
    public void BreakElapsed_ProbeSucceeds_Closes()
    {
        var breaker = Create();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(60));

        Assert.True(breaker.TryAcquire(out var probe));
        Assert.True(probe.IsProbe);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.False(breaker.TryAcquire(out var second));
        Assert.Equal(TimeSpan.FromSeconds(10), second.RemainingBreak);

        probe.Succeeded();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(
            [CircuitState.Open, CircuitState.HalfOpen, CircuitState.Closed],
            _changes.Select(c => c.To));
        Assert.Equal(CircuitTransitionReason.BreakElapsed, _changes[1].Reason);
        Assert.Equal(CircuitTransitionReason.ProbesSucceeded, _changes[2].Reason);
        Assert.Equal(0, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public void HalfOpen_ProbeFails_ReopensWithSameBreakWhenNoFactor()
    {
        var breaker = Create();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.True(breaker.TryAcquire(out var probe));

        probe.Failed();

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(CircuitTransitionReason.ProbeFailed, _changes[^1].Reason);
        Assert.Equal(TimeSpan.FromSeconds(60), breaker.GetSnapshot().BreakDuration);
    }

    [Fact]
    public void HalfOpen_ProbeFails_ReopensWithLongerBreakUpToCap()
    {
        var breaker = Create(o =>
        {
            o.BreakDuration = TimeSpan.FromSeconds(10);
            o.BreakDurationFactor = 2;
            o.MaxBreakDuration = TimeSpan.FromSeconds(30);
        });
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(10));
        foreach (var seconds in new[] { 20, 30, 30 })
        {
            Assert.True(breaker.TryAcquire(out var probe));
            probe.Failed();
            Assert.Equal(TimeSpan.FromSeconds(seconds), breaker.GetSnapshot().BreakDuration);
            _time.Advance(TimeSpan.FromSeconds(seconds - 1));
            Assert.False(breaker.TryAcquire(out var refused));
            Assert.Equal(TimeSpan.FromSeconds(1), refused.RemainingBreak);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.True(breaker.TryAcquire(out var last));
        last.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(TimeSpan.FromSeconds(10), breaker.GetSnapshot().BreakDuration);
    }

    [Fact]
    public void HalfOpen_SeveralProbes_ClosesOnlyWhenAllSucceed()
    {
        var breaker = Create(o => o.PermittedProbes = 3);
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromMinutes(1));
        var probes = new CircuitPermit[3];
        for (var i = 0; i < 3; i++)
        {
            Assert.True(breaker.TryAcquire(out probes[i]));
        }

        Assert.False(breaker.TryAcquire(out _));
        probes[0].Succeeded();
        probes[1].Succeeded();
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        probes[2].Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void HalfOpen_OneOfSeveralProbesFails_Reopens()
    {
        var breaker = Create(o => o.PermittedProbes = 2);
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(breaker.TryAcquire(out var a));
        Assert.True(breaker.TryAcquire(out var b));
        a.Succeeded();
        b.Failed();
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void HalfOpen_ProbeReleased_FreesSlotWithoutVerdict()
    {
        var breaker = Create();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(breaker.TryAcquire(out var probe));
        probe.Release();
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.True(breaker.TryAcquire(out var next));
        next.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void StalePermit_FailureAfterReopen_IsIgnored()
    {
        var breaker = Create(o => o.FailureThreshold = 2);
        Assert.True(breaker.TryAcquire(out var old));
        Fail(breaker, 2);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(breaker.TryAcquire(out var probe));
        probe.Succeeded();

        old.Failed();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public void SlowCall_SuccessSlowerThanThreshold_CountsAsFailure()
    {
        var breaker = Create(o =>
        {
            o.FailureThreshold = 2;
            o.SlowCallThreshold = TimeSpan.FromSeconds(2);
        });
        for (var i = 0; i < 2; i++)
        {
            Assert.True(breaker.TryAcquire(out var permit));
            _time.Advance(TimeSpan.FromSeconds(2));
            permit.Succeeded();
        }

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void SlowCall_FastSuccess_CountsAsSuccess()
    {
        var breaker = Create(o => o.SlowCallThreshold = TimeSpan.FromSeconds(2));
        Fail(breaker, 4);
        Assert.True(breaker.TryAcquire(out var permit));
        _time.Advance(TimeSpan.FromSeconds(1));
        permit.Succeeded();
        Assert.Equal(0, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public void SlowCall_SlowProbe_Reopens()
    {
        var breaker = Create(o => o.SlowCallThreshold = TimeSpan.FromSeconds(2));
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(breaker.TryAcquire(out var probe));
        _time.Advance(TimeSpan.FromSeconds(3));
        probe.Succeeded();
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(CircuitTransitionReason.ProbeFailed, _changes[^1].Reason);
    }

    [Fact]
    public void Isolate_RejectsUntilReset_EvenAfterBreak()
    {
        var breaker = Create();
        breaker.Isolate();
        _time.Advance(TimeSpan.FromDays(1));

        Assert.False(breaker.TryAcquire(out var permit));
        Assert.Equal(Timeout.InfiniteTimeSpan, permit.RemainingBreak);
        Assert.Equal(CircuitState.Isolated, breaker.State);
        var e = Assert.Throws<BrokenCircuitException>(() => breaker.Execute(static () => 1));
        Assert.Equal(CircuitState.Isolated, e.State);
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromDays(1), breaker.GetSnapshot().OpenedAt);

        breaker.Reset();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(1, breaker.Execute(static () => 1));
        Assert.Equal([CircuitTransitionReason.Isolated, CircuitTransitionReason.Reset], _changes.Select(c => c.Reason));
    }

    [Fact]
    public void Reset_Open_ClosesAndClearsCounts()
    {
        var breaker = Create();
        Fail(breaker, 5);
        breaker.Reset();
        Assert.Equal(CircuitState.Closed, breaker.State);
        var snapshot = breaker.GetSnapshot();
        Assert.Equal(0, snapshot.Failures);
        Assert.Null(snapshot.OpenedAt);
        Assert.Null(snapshot.NextProbeAt);
        Assert.Equal(2, snapshot.Transitions);
    }

    [Fact]
    public void GetSnapshot_Open_ReportsTimesAndCounters()
    {
        var breaker = Create();
        var openedAt = _time.GetUtcNow();
        Fail(breaker, 5);
        breaker.TryAcquire(out _);
        breaker.TryAcquire(out _);

        var snapshot = breaker.GetSnapshot();

        Assert.Equal(CircuitState.Open, snapshot.State);
        Assert.Equal(openedAt, snapshot.OpenedAt);
        Assert.Equal(openedAt.AddSeconds(60), snapshot.NextProbeAt);
        Assert.Equal(2, snapshot.Rejections);
        Assert.Equal(1, snapshot.Transitions);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancels_NotCountedAsFailure()
    {
        var breaker = Create(o => o.FailureThreshold = 1);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await breaker.ExecuteAsync(static (_, ct) => ValueTask.FromCanceled<int>(ct), 0, cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await breaker.ExecuteAsync<int, int>(static (_, ct) => { ct.ThrowIfCancellationRequested(); return default; }, 0, cts.Token));
        var outcome = await breaker.ExecuteOutcomeAsync(static (_, ct) => ValueTask.FromCanceled<int>(ct), 0, cts.Token);

        Assert.IsAssignableFrom<OperationCanceledException>(outcome.Exception);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public async Task ExecuteAsync_CancellationNotRequestedByCaller_CountsAsFailure()
    {
        var breaker = Create(o => o.FailureThreshold = 1);
        await Assert.ThrowsAsync<TaskCanceledException>(async () =>
            await breaker.ExecuteAsync<int, int>(static (_, _) => throw new TaskCanceledException("upstream timeout"), 0, CancellationToken.None));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_HalfOpenProbeCanceledByCaller_FreesProbeSlot()
    {
        var breaker = Create();
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromMinutes(1));
        using var cts = new CancellationTokenSource();
        var gate = new TaskCompletionSource<int>();
        var call = breaker.ExecuteAsync(static (g, _) => new ValueTask<int>(g.Task), gate, cts.Token);
        await cts.CancelAsync();
        gate.SetCanceled(cts.Token);
        await Assert.ThrowsAsync<TaskCanceledException>(async () => await call);

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(5, await breaker.ExecuteAsync(static (_, _) => new ValueTask<int>(5), 0, CancellationToken.None));
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_AsyncFailure_CountsAndRethrows()
    {
        var breaker = Create(o => o.FailureThreshold = 1);
        var gate = new TaskCompletionSource<int>();
        var call = breaker.ExecuteAsync(static (g, _) => new ValueTask<int>(g.Task), gate, CancellationToken.None);
        gate.SetException(new InvalidOperationException("late"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await call);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_ResultPredicate_CountsFailedResultsAndReturnsThem()
    {
        var breaker = Create(o => o.FailureThreshold = 2);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(503, await breaker.ExecuteAsync(static (s, _) => new ValueTask<int>(s), 503, static r => r >= 500, CancellationToken.None));
        }

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_ResultPredicate_Sync()
    {
        var breaker = Create(o => o.FailureThreshold = 1);
        var pipeline = breaker.Pipeline<int>(static r => r >= 500);
        Assert.Equal(200, pipeline.Execute(static (s, _) => s, 200));
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(500, pipeline.Execute(static (s, _) => s, 500));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_ShouldHandleRejectsException_CountsAsSuccess()
    {
        var breaker = Create(o =>
        {
            o.FailureThreshold = 1;
            o.ShouldHandle = static e => e is not ArgumentException;
        });
        Assert.Throws<ArgumentException>(() => breaker.Execute<int>(static () => throw new ArgumentException("bad input")));
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Throws<InvalidOperationException>(() => breaker.Execute<int>(static () => throw new InvalidOperationException()));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteOutcomeAsync_OpenThenIsolated_RefusesWithoutRunningAndCountsEachRejection()
    {
        var breaker = Create();
        var runs = new int[1];
        Fail(breaker, 5);

        var open = await breaker.ExecuteOutcomeAsync(static (r, _) => new ValueTask<int>(++r[0]), runs, CancellationToken.None);
        breaker.Isolate();
        var isolated = await breaker.ExecuteOutcomeAsync(static (r, _) => new ValueTask<int>(++r[0]), runs, CancellationToken.None);
        var again = await breaker.ExecuteOutcomeAsync(static (r, _) => new ValueTask<int>(++r[0]), runs, CancellationToken.None);

        Assert.Equal(CircuitState.Open, Assert.IsType<BrokenCircuitException>(open.Exception).State);
        Assert.Equal(CircuitState.Isolated, Assert.IsType<BrokenCircuitException>(isolated.Exception).State);
        Assert.Same(isolated.Exception, again.Exception);
        Assert.Equal(0, runs[0]);
        Assert.Equal(3, breaker.GetSnapshot().Rejections);
    }

    [Fact]
    public async Task ExecuteOutcomeAsync_Open_ReturnsCachedExceptionPerOpening()
    {
        var breaker = Create();
        Fail(breaker, 5);

        var first = await breaker.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);
        var second = await breaker.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);

        var e = Assert.IsType<BrokenCircuitException>(first.Exception);
        Assert.Same(e, second.Exception);
        Assert.Equal(TimeSpan.FromSeconds(60), e.RemainingBreak);

        _time.Advance(TimeSpan.FromMinutes(1));
        var probe = await breaker.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(7), 0, CancellationToken.None);
        Assert.Equal(7, probe.GetResultOrThrow());
        Fail(breaker, 5);
        var third = await breaker.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);
        Assert.NotSame(e, third.Exception);
    }

    [Fact]
    public async Task ExecuteOutcomeAsync_OperationThrows_ReturnsExceptionOutcome()
    {
        var breaker = Create();
        var outcome = await breaker.ExecuteOutcomeAsync<int, int>(static (_, _) => throw new InvalidOperationException("x"), 0, CancellationToken.None);
        Assert.IsType<InvalidOperationException>(outcome.Exception);
        Assert.Equal(1, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public void OnStateChanged_Throws_StateChangeStands()
    {
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("x", new CircuitBreakerOptions { FailureThreshold = 1, OnStateChanged = static _ => throw new InvalidOperationException() }, _time);
        Fail(breaker, 1);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Constructor_InvalidOptions_ListsEveryError()
    {
        var options = new CircuitBreakerOptions
        {
            FailureThreshold = 0,
            FailureRatio = 1.5,
            PermittedProbes = 0,
            SlowCallThreshold = TimeSpan.Zero,
            BreakDurationFactor = 2,
            BreakDuration = TimeSpan.FromMinutes(5),
            MaxBreakDuration = TimeSpan.FromMinutes(1),
        };

        var e = Assert.Throws<OptionsValidationException>(() => new global::Resilience.CircuitBreaking.CircuitBreaker("orders", options));

        Assert.Equal(5, e.Failures.Count());
        Assert.Contains("FailureThreshold", e.Message, StringComparison.Ordinal);
        Assert.Contains("FailureRatio", e.Message, StringComparison.Ordinal);
        Assert.Contains("PermittedProbes", e.Message, StringComparison.Ordinal);
        Assert.Contains("SlowCallThreshold", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxBreakDuration", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_EmptyName_Throws() =>
        Assert.Throws<ArgumentException>(() => new global::Resilience.CircuitBreaking.CircuitBreaker(" ", new CircuitBreakerOptions()));

    [Fact]
    public void HalfOpen_ProbeNeverReports_AnotherProbeIsAdmittedAfterABreak_AndTheLateResultIsIgnored()
    {
        var breaker = Create(o => o.BreakDuration = TimeSpan.FromSeconds(30));
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(breaker.TryAcquire(out var lost));
        Assert.True(lost.IsProbe);
        Assert.False(breaker.TryAcquire(out _));

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(breaker.TryAcquire(out var retryProbe));
        lost.Failed(new InvalidOperationException("too late"));

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        retryProbe.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Consecutive_SuccessAdmittedBeforeOpening_DoesNotResetTheNextClosedPeriod()
    {
        var breaker = Create(o => o.BreakDuration = TimeSpan.FromSeconds(10));
        Assert.True(breaker.TryAcquire(out var slow));
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(breaker.TryAcquire(out var probe));
        probe.Succeeded();
        Fail(breaker, 4);

        slow.Succeeded();

        Assert.Equal(4, breaker.GetSnapshot().Failures);
        Fail(breaker, 1);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Open_BreakEndsOnTimeEvenWhenTheTimerIsLate()
    {
        // A provider whose timers never fire stands for a starved thread pool: the clock check still ends the break.
        var time = new SilentTimerTimeProvider(_time);
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker("late-timer", new CircuitBreakerOptions { BreakDuration = TimeSpan.FromSeconds(5) }, time);
        Fail(breaker, 5);
        _time.Advance(TimeSpan.FromSeconds(5));

        var admitted = false;
        for (var i = 0; i < 64 && !admitted; i++)
        {
            admitted = breaker.TryAcquire(out _);
        }

        Assert.True(admitted);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }
}
