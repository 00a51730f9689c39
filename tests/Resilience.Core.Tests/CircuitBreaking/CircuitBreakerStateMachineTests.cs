using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Testing;

namespace Resilience.Core.Tests.CircuitBreaking;

/// <summary>
/// The breaker's state machine through its handle only (TryAcquire and the permit, snapshot, isolate/reset, options
/// update): the exact edges of breaks, probes, slow calls and the failure ratio.
/// </summary>
public sealed class CircuitBreakerStateMachineTests
{
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<CircuitStateChange> _changes = [];

    private global::Resilience.CircuitBreaking.CircuitBreaker Create(Action<CircuitBreakerOptions>? configure = null, TimeProvider? time = null, CapturingLogger? logger = null)
    {
        var options = new CircuitBreakerOptions
        {
            FailureThreshold = 2,
            BreakDuration = Break,
            ProbeTimeout = ProbeTimeout,
            OnStateChanged = c => _changes.Add(c),
        };
        configure?.Invoke(options);
        return new global::Resilience.CircuitBreaking.CircuitBreaker("sm", options, time ?? _time, logger);
    }

    private static CircuitBreakerOptions Ratio(CircuitBreakerOptions o)
    {
        o.Mode = CircuitBreakerMode.FailureRatio;
        o.FailureRatio = 0.5;
        o.MinimumThroughput = 10;
        o.SamplingDuration = TimeSpan.FromSeconds(10);
        o.SamplingBuckets = 10;
        return o;
    }

    private static void Fail(global::Resilience.CircuitBreaking.CircuitBreaker breaker, int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.True(breaker.TryAcquire(out var permit));
            permit.Failed();
        }
    }

    private static void Succeed(global::Resilience.CircuitBreaking.CircuitBreaker breaker, int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.True(breaker.TryAcquire(out var permit));
            permit.Succeeded();
        }
    }

    /// <summary>Opens a consecutive-mode breaker (threshold 2) and lets its break elapse, so the next call is a probe.</summary>
    private void OpenAndElapse(global::Resilience.CircuitBreaking.CircuitBreaker breaker)
    {
        Fail(breaker, 2);
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(Break);
    }

    private static CircuitPermit Probe(global::Resilience.CircuitBreaking.CircuitBreaker breaker)
    {
        Assert.True(breaker.TryAcquire(out var permit));
        Assert.True(permit.IsProbe);
        return permit;
    }

    private static CircuitPermit Refused(global::Resilience.CircuitBreaking.CircuitBreaker breaker)
    {
        Assert.False(breaker.TryAcquire(out var permit));
        Assert.False(permit.IsAcquired);
        return permit;
    }

    [Fact]
    public void TryAcquire_OpenWithLateTimer_ReadsTheClockOnceIn64RejectionsAndCountsEachOnce()
    {
        var breaker = Create(time: new SilentTimerTimeProvider(_time));
        Fail(breaker, 2);
        _time.Advance(Break - OneTick);
        for (var i = 0; i < 200; i++)
        {
            Refused(breaker);
        }

        Assert.Equal(200, breaker.GetSnapshot().Rejections);

        // The break ends now, at its exact end; the timer never fires, so the 256th fast rejection's clock read notices.
        _time.Advance(OneTick);
        var calls = 0;
        CircuitPermit permit;
        do
        {
            calls++;
        }
        while (!breaker.TryAcquire(out permit) && calls < 100);

        Assert.Equal(56, calls);
        Assert.True(permit.IsProbe);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(255, breaker.GetSnapshot().Rejections);
    }

    [Fact]
    public void TryAcquire_Open_RefusedOneTickBeforeTheBreakEnds_ProbeAdmittedAtTheEnd()
    {
        var breaker = Create();
        Fail(breaker, 2);

        _time.Advance(Break - OneTick);
        var refused = Refused(breaker);
        Assert.Equal(OneTick, refused.RemainingBreak);
        Assert.Equal(CircuitState.Open, breaker.State);

        _time.Advance(OneTick);
        Probe(breaker);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal(CircuitTransitionReason.BreakElapsed, _changes[^1].Reason);
    }

    [Fact]
    public void TryAcquire_HalfOpenAllProbesInFlight_RefusedUntilTheFirstProbesDeadline()
    {
        var breaker = Create(o => o.PermittedProbes = 2);
        OpenAndElapse(breaker);
        var first = Probe(breaker);
        _time.Advance(TimeSpan.FromSeconds(10));
        var second = Probe(breaker);

        // The deadline runs from the first probe of the period; a later probe does not push it back.
        Assert.Equal(TimeSpan.FromSeconds(20), Refused(breaker).RemainingBreak);
        _time.Advance(TimeSpan.FromSeconds(20) - OneTick);
        Assert.Equal(OneTick, Refused(breaker).RemainingBreak);

        _time.Advance(OneTick);
        Probe(breaker);

        // The abandoned probes report late: they no longer count, so the circuit stays half-open.
        first.Succeeded();
        second.Succeeded();
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public void TryAcquire_HalfOpenFreeSlotAfterTheProbeDeadline_AdmitsItIntoTheSamePeriod()
    {
        // Only probes that fill every slot and stay silent past the deadline are abandoned; a free slot is simply taken.
        var breaker = Create(o => o.PermittedProbes = 2);
        OpenAndElapse(breaker);
        var first = Probe(breaker);
        _time.Advance(ProbeTimeout);
        var second = Probe(breaker);

        first.Succeeded();
        second.Succeeded();

        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Release_StaleProbeAfterAbandonment_DoesNotFreeTheNewProbesSlot()
    {
        var breaker = Create();
        OpenAndElapse(breaker);
        var abandoned = Probe(breaker);
        _time.Advance(ProbeTimeout);
        var current = Probe(breaker);

        abandoned.Release();

        Refused(breaker);
        current.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Release_CopyOfAProbeThatSucceeded_DoesNotFreeASlot()
    {
        var breaker = Create(o => o.PermittedProbes = 2);
        OpenAndElapse(breaker);
        var first = Probe(breaker);
        var second = Probe(breaker);
        var copy = first;

        first.Succeeded();
        copy.Release();

        Refused(breaker);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        second.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(CircuitTransitionReason.ProbesSucceeded, _changes[^1].Reason);
    }

    [Fact]
    public void Release_ProbeInFlight_SlotGoesToTheNextCaller_AndTheCircuitClosesWhenAllSucceed()
    {
        var breaker = Create(o => o.PermittedProbes = 2);
        OpenAndElapse(breaker);
        var first = Probe(breaker);
        var released = Probe(breaker);

        released.Release();
        var third = Probe(breaker);
        Refused(breaker);

        first.Succeeded();
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        third.Succeeded();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void TryAcquire_ProbesAbandonedAfterOneOfTwoSucceeded_LogsOnlyTheSilentOne()
    {
        var logger = new CapturingLogger();
        var breaker = Create(o => o.PermittedProbes = 2, logger: logger);
        OpenAndElapse(breaker);
        var first = Probe(breaker);
        _ = Probe(breaker);
        first.Succeeded();

        _time.Advance(ProbeTimeout);
        Probe(breaker);

        var entry = Assert.Single(logger.Entries, e => e.EventId.Name == "CircuitProbeAbandoned");
        Assert.Contains("1 probe(s) did not report", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Succeeded_CallExactlyAsSlowAsTheThreshold_CountsAsFailure()
    {
        var breaker = Create(o => { o.FailureThreshold = 1; o.SlowCallThreshold = TimeSpan.FromSeconds(1); });
        Assert.True(breaker.TryAcquire(out var permit));

        _time.Advance(TimeSpan.FromSeconds(1));
        permit.Succeeded();

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Succeeded_CallOneTickFasterThanTheThreshold_CountsAsSuccess()
    {
        var breaker = Create(o => { o.FailureThreshold = 2; o.SlowCallThreshold = TimeSpan.FromSeconds(1); });
        Fail(breaker, 1);
        Assert.True(breaker.TryAcquire(out var permit));

        _time.Advance(TimeSpan.FromSeconds(1) - OneTick);
        permit.Succeeded();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(0, breaker.GetSnapshot().Failures);
    }

    [Fact]
    public void Failed_RatioReachedExactlyAtMinimumThroughput_Opens()
    {
        var breaker = Create(o => Ratio(o));
        Succeed(breaker, 5);
        Fail(breaker, 4);
        Assert.Equal(CircuitState.Closed, breaker.State);

        Fail(breaker, 1);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(CircuitTransitionReason.FailureRatio, _changes[^1].Reason);
    }

    [Fact]
    public void Failed_RatioJustBelow_StaysClosedUntilReached()
    {
        var breaker = Create(o => Ratio(o));
        Succeed(breaker, 6);
        Fail(breaker, 5);

        // 5 of 11 is below one half; 6 of 12 is exactly one half.
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal((5, 11), (breaker.GetSnapshot().Failures, breaker.GetSnapshot().Calls));

        Fail(breaker, 1);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Permit_RatioModeAdmittedBeforeAStateChange_CountsNothingAfterIt()
    {
        var breaker = Create(o => Ratio(o));
        Assert.True(breaker.TryAcquire(out var success));
        Assert.True(breaker.TryAcquire(out var failure));
        breaker.Isolate();
        breaker.Reset();

        success.Succeeded();
        failure.Failed();

        Assert.Equal((0, 0), (breaker.GetSnapshot().Failures, breaker.GetSnapshot().Calls));
    }

    [Fact]
    public void Succeeded_RatioMode_CountsTheCallAtTheCurrentTime()
    {
        var breaker = Create(o => Ratio(o));
        _time.Advance(TimeSpan.FromHours(1));

        Succeed(breaker, 3);
        Fail(breaker, 1);

        Assert.Equal((1, 4), (breaker.GetSnapshot().Failures, breaker.GetSnapshot().Calls));
    }

    [Fact]
    public void GetSnapshot_ThroughOpenHalfOpenAndClosed_ReportsOpenedAtNextProbeAndBreak()
    {
        var breaker = Create();
        var openedAt = _time.GetUtcNow();
        Fail(breaker, 2);

        var open = breaker.GetSnapshot();
        Assert.Equal(CircuitState.Open, open.State);
        Assert.Equal(openedAt, open.OpenedAt);
        Assert.Equal(openedAt + Break, open.NextProbeAt);
        Assert.Equal(Break, open.BreakDuration);
        Assert.Equal(1, open.Transitions);

        _time.Advance(Break);
        var probe = Probe(breaker);
        var halfOpen = breaker.GetSnapshot();
        Assert.Equal(CircuitState.HalfOpen, halfOpen.State);
        Assert.Null(halfOpen.NextProbeAt);
        Assert.Equal(2, halfOpen.Transitions);

        probe.Succeeded();
        var closed = breaker.GetSnapshot();
        Assert.Equal(CircuitState.Closed, closed.State);
        Assert.Null(closed.OpenedAt);
        Assert.Null(closed.NextProbeAt);
        Assert.Equal(3, closed.Transitions);
    }

    [Fact]
    public void HalfOpen_ProbeFailsWithGrowingBreak_ThenSucceeds_NextOpeningStartsFromTheBaseBreak()
    {
        var breaker = Create(o => { o.BreakDurationFactor = 2; o.MaxBreakDuration = TimeSpan.FromSeconds(25); });
        OpenAndElapse(breaker);
        Probe(breaker).Failed();
        Assert.Equal(TimeSpan.FromSeconds(20), breaker.GetSnapshot().BreakDuration);
        _time.Advance(TimeSpan.FromSeconds(20));
        Probe(breaker).Failed();
        Assert.Equal(TimeSpan.FromSeconds(25), _changes[^1].BreakDuration);
        Assert.Equal(TimeSpan.FromSeconds(25), Refused(breaker).RemainingBreak);

        _time.Advance(TimeSpan.FromSeconds(25));
        Probe(breaker).Succeeded();
        Assert.Equal(Break, breaker.GetSnapshot().BreakDuration);
        Fail(breaker, 2);

        Assert.Equal(Break, _changes[^1].BreakDuration);
    }

    [Fact]
    public void HalfOpen_ProbeFailsWithoutFactor_ReopensWithTheSameBreak()
    {
        var breaker = Create(o => o.MaxBreakDuration = TimeSpan.FromSeconds(25));
        OpenAndElapse(breaker);

        Probe(breaker).Failed();

        Assert.Equal(Break, _changes[^1].BreakDuration);
        Assert.Equal(Break, Refused(breaker).RemainingBreak);
    }

    [Fact]
    public void UpdateOptions_BreakDurationWhileClosed_ShowsInTheSnapshotAtOnce()
    {
        var breaker = Create();

        breaker.UpdateOptions(new CircuitBreakerOptions { FailureThreshold = 2, BreakDuration = TimeSpan.FromSeconds(3) });

        Assert.Equal(TimeSpan.FromSeconds(3), breaker.GetSnapshot().BreakDuration);
    }

    [Fact]
    public void UpdateOptions_BreakDurationWhileOpen_KeepsTheCurrentBreakInTheSnapshot()
    {
        var breaker = Create();
        Fail(breaker, 2);

        breaker.UpdateOptions(new CircuitBreakerOptions { FailureThreshold = 2, BreakDuration = TimeSpan.FromSeconds(3) });

        Assert.Equal(Break, breaker.GetSnapshot().BreakDuration);
    }

    [Theory]
    [InlineData(5, 10, false)]
    [InlineData(10, 20, false)]
    [InlineData(10, 10, true)]
    public void UpdateOptions_RatioWindowShape_RestartsTheCountOnlyWhenItChanges(int buckets, int seconds, bool kept)
    {
        var breaker = Create(o => Ratio(o));
        Succeed(breaker, 1);
        Fail(breaker, 2);

        var options = Ratio(new CircuitBreakerOptions { BreakDuration = Break });
        options.FailureRatio = 0.9;
        options.SamplingBuckets = buckets;
        options.SamplingDuration = TimeSpan.FromSeconds(seconds);
        breaker.UpdateOptions(options);

        var expected = kept ? (2, 3) : (0, 0);
        Assert.Equal(expected, (breaker.GetSnapshot().Failures, breaker.GetSnapshot().Calls));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UpdateOptions_ConsecutiveMode_WindowShapeChangeRestartsTheCount(bool changeShape)
    {
        var breaker = Create(o => o.FailureThreshold = 3);
        Fail(breaker, 2);

        breaker.UpdateOptions(new CircuitBreakerOptions
        {
            FailureThreshold = 4,
            SamplingBuckets = changeShape ? 5 : new CircuitBreakerOptions().SamplingBuckets,
        });

        Assert.Equal(changeShape ? 0 : 2, breaker.GetSnapshot().Failures);
        Assert.Equal(CircuitBreakerMode.ConsecutiveFailures, breaker.Mode);
    }

    [Fact]
    public void UpdateOptions_ModeToRatioAndBack_StartsEachModeEmpty()
    {
        var breaker = Create(o => o.FailureThreshold = 3);
        Fail(breaker, 2);

        breaker.UpdateOptions(Ratio(new CircuitBreakerOptions { BreakDuration = Break }));
        Assert.Equal(CircuitBreakerMode.FailureRatio, breaker.Mode);
        Fail(breaker, 1);
        Assert.Equal((1, 1), (breaker.GetSnapshot().Failures, breaker.GetSnapshot().Calls));

        breaker.UpdateOptions(new CircuitBreakerOptions { FailureThreshold = 3, BreakDuration = Break });
        Assert.Equal(CircuitBreakerMode.ConsecutiveFailures, breaker.Mode);
        Assert.Equal((0, 0), (breaker.GetSnapshot().Failures, breaker.GetSnapshot().Calls));
        Fail(breaker, 2);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void Isolate_Twice_RaisesOneTransition_AndRefusesWithAnInfiniteBreak()
    {
        var breaker = Create();
        Fail(breaker, 2);
        var isolatedAt = _time.GetUtcNow();

        breaker.Isolate();
        breaker.Isolate();

        Assert.Equal(2, _changes.Count);
        Assert.Equal((CircuitState.Open, CircuitState.Isolated, CircuitTransitionReason.Isolated), (_changes[1].From, _changes[1].To, _changes[1].Reason));
        Assert.Equal(Timeout.InfiniteTimeSpan, Refused(breaker).RemainingBreak);
        var snapshot = breaker.GetSnapshot();
        Assert.Equal(isolatedAt, snapshot.OpenedAt);
        Assert.Null(snapshot.NextProbeAt);
        Assert.Equal(1, snapshot.Rejections);

        _time.Advance(Break * 10);
        Refused(breaker);
        breaker.Reset();
        Assert.Equal((CircuitState.Isolated, CircuitState.Closed, CircuitTransitionReason.Reset), (_changes[^1].From, _changes[^1].To, _changes[^1].Reason));
    }

    [Theory]
    [InlineData(CircuitBreakerMode.ConsecutiveFailures)]
    [InlineData(CircuitBreakerMode.FailureRatio)]
    public void Reset_Closed_ClearsTheCountsWithoutATransition(CircuitBreakerMode mode)
    {
        var breaker = Create(o =>
        {
            if (mode == CircuitBreakerMode.FailureRatio)
            {
                Ratio(o);
            }

            o.FailureThreshold = 3;
        });
        Succeed(breaker, 1);
        Fail(breaker, 2);

        breaker.Reset();

        Assert.Equal((0, 0), (breaker.GetSnapshot().Failures, breaker.GetSnapshot().Calls));
        Assert.Empty(_changes);
        Assert.Equal(0, breaker.GetSnapshot().Transitions);
        Fail(breaker, 2);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task Pipeline_SharedBreakerOpen_RejectsWithOpenStateAndTheBreakLeft()
    {
        var breaker = Create();
        var pipeline = new ResiliencePipelineBuilder("sm") { TimeProvider = _time }.AddCircuitBreaker(breaker).Build();
        Fail(breaker, 2);
        _time.Advance(TimeSpan.FromSeconds(4));
        var counter = new Counter(0);

        var outcome = await pipeline.ExecuteOutcomeAsync(static (c, _) => new ValueTask<int>(++c.Value), counter, CancellationToken.None);

        var rejection = Assert.IsType<BrokenCircuitException>(outcome.Exception);
        Assert.Equal(CircuitState.Open, rejection.State);
        Assert.Equal("sm", rejection.BreakerName);
        Assert.Equal(TimeSpan.FromSeconds(6), rejection.RemainingBreak);
        Assert.Equal(0, counter.Value);
    }

    [Fact]
    public async Task Pipeline_SharedBreakerProbeInFlight_RejectsWithHalfOpenStateAndTheProbeDeadline()
    {
        var breaker = Create();
        var pipeline = new ResiliencePipelineBuilder("sm") { TimeProvider = _time }.AddCircuitBreaker(breaker).Build();
        OpenAndElapse(breaker);
        var probe = Probe(breaker);
        _time.Advance(TimeSpan.FromSeconds(5));

        var outcome = await pipeline.ExecuteOutcomeAsync(static (c, _) => new ValueTask<int>(++c.Value), new Counter(0), CancellationToken.None);

        var rejection = Assert.IsType<BrokenCircuitException>(outcome.Exception);
        Assert.Equal(CircuitState.HalfOpen, rejection.State);
        Assert.Equal(ProbeTimeout - TimeSpan.FromSeconds(5), rejection.RemainingBreak);
        probe.Succeeded();
        Assert.Equal(7, await pipeline.ExecuteAsync(static (_, _) => new ValueTask<int>(7), 0, CancellationToken.None));
    }

    [Fact]
    public async Task Pipeline_SharedBreakerIsolated_RejectsWithIsolatedStateAndNoEnd()
    {
        var breaker = Create();
        var pipeline = new ResiliencePipelineBuilder("sm") { TimeProvider = _time }.AddCircuitBreaker(breaker).Build();
        breaker.Isolate();
        var box = new Counter(0);

        var outcome = await pipeline.ExecuteOutcomeAsync(static (c, _) => new ValueTask<int>(++c.Value), box, CancellationToken.None);

        var rejection = Assert.IsType<BrokenCircuitException>(outcome.Exception);
        Assert.Equal(CircuitState.Isolated, rejection.State);
        Assert.Equal(Timeout.InfiniteTimeSpan, rejection.RemainingBreak);
        Assert.Equal(0, box.Value);
        Assert.Equal(1, breaker.GetSnapshot().Rejections);
    }

    [Fact]
    public void TryAcquire_TimerEndedTheBreakBeforeTheClockCaughtUp_AdmitsAProbe()
    {
        // The timer decides: a clock that reads a little behind (a coarse clock) must not hold the circuit open longer.
        var time = new ManualTimerTimeProvider(_time);
        var breaker = Create(time: time);
        Fail(breaker, 2);
        _time.Advance(Break - TimeSpan.FromMilliseconds(5));

        time.FireAll();

        Probe(breaker);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public void Succeeded_ProbeWhileOthersAreInFlight_IsNotCountedInTheWindow()
    {
        var breaker = Create(o => { Ratio(o); o.PermittedProbes = 2; });
        Succeed(breaker, 5);
        Fail(breaker, 5);
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(Break);
        var first = Probe(breaker);
        _ = Probe(breaker);
        var before = breaker.GetSnapshot();

        first.Succeeded();

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.Equal((before.Failures, before.Calls), (breaker.GetSnapshot().Failures, breaker.GetSnapshot().Calls));
    }

    [Fact]
    public void Succeeded_ClosedPeriodPermitAfterProbesWereAbandonedTwice_IsIgnored()
    {
        var breaker = Create(o => Ratio(o));
        Assert.True(breaker.TryAcquire(out var stale));
        Fail(breaker, 10);
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(Break);
        Probe(breaker);
        _time.Advance(ProbeTimeout);
        Probe(breaker);
        _time.Advance(ProbeTimeout);
        Probe(breaker);
        var calls = breaker.GetSnapshot().Calls;

        stale.Succeeded();

        Assert.Equal(calls, breaker.GetSnapshot().Calls);
    }

    [Fact]
    public void HalfOpen_ProbeFailsAfterBreakDurationLoweredWithoutFactor_ReopensWithTheCurrentBreak()
    {
        var breaker = Create();
        Fail(breaker, 2);
        breaker.UpdateOptions(new CircuitBreakerOptions
        {
            FailureThreshold = 2,
            BreakDuration = TimeSpan.FromSeconds(3),
            ProbeTimeout = ProbeTimeout,
            OnStateChanged = c => _changes.Add(c),
        });
        _time.Advance(Break);

        Probe(breaker).Failed();

        // No factor: the break in progress is kept as it is, not cut to the new (shorter) base.
        Assert.Equal(Break, _changes[^1].BreakDuration);
        Assert.Equal(Break, breaker.CurrentBreak);
    }

    [Fact]
    public void CurrentBreak_GrowsWithFailedProbes_AndReturnsToTheBaseOnClose()
    {
        var breaker = Create(o => { o.BreakDurationFactor = 3; o.MaxBreakDuration = TimeSpan.FromMinutes(1); });
        Assert.Equal(Break, breaker.CurrentBreak);
        OpenAndElapse(breaker);

        Probe(breaker).Failed();
        Assert.Equal(TimeSpan.FromSeconds(30), breaker.CurrentBreak);
        _time.Advance(TimeSpan.FromSeconds(30));
        Probe(breaker).Succeeded();

        Assert.Equal(Break, breaker.CurrentBreak);
    }

    [Fact]
    public void Telemetry_EveryRejectionAndTransition_IsCountedOnce()
    {
        var name = "sm-metrics-" + Guid.NewGuid().ToString("N");
        using var recorder = new MeterRecorder(meter => meter.Scope is null);
        var breaker = new global::Resilience.CircuitBreaking.CircuitBreaker(name, new CircuitBreakerOptions { FailureThreshold = 1, BreakDuration = Break }, _time);

        Fail(breaker, 1);
        Refused(breaker);
        Refused(breaker);
        breaker.Isolate();
        Refused(breaker);

        Assert.Equal(3, recorder.Of("resilience.circuit_breaker.rejections", name).Sum(m => m.Value));
        Assert.Equal(2, recorder.Of("resilience.circuit_breaker.transitions", name).Sum(m => m.Value));
    }

    [Fact]
    public void Log_TransitionsAreLogged_AndANormalProbeIsNotReportedAbandoned()
    {
        var logger = new CapturingLogger();
        var breaker = Create(logger: logger);
        OpenAndElapse(breaker);

        Probe(breaker).Succeeded();

        string[] transitions = ["CircuitOpened", "CircuitHalfOpened", "CircuitClosed"];
        Assert.Equal(transitions, logger.Entries.Select(e => e.EventId.Name).Where(n => transitions.Contains(n)));
        Assert.DoesNotContain(logger.Entries, e => e.EventId.Name == "CircuitProbeAbandoned");
    }

    [Fact]
    public void OnStateChanged_Throws_FailureIsLogged()
    {
        var logger = new CapturingLogger();
        var breaker = Create(o => o.OnStateChanged = _ => throw new InvalidOperationException("observer"), logger: logger);

        Fail(breaker, 2);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Single(logger.Entries, e => e.EventId.Name == "CircuitStateChangedCallbackFailed");
    }

    [Fact]
    public async Task Pipeline_ProbeInFlight_RejectionsOfOnePeriodShareOneException()
    {
        var breaker = Create();
        var pipeline = new ResiliencePipelineBuilder("sm") { TimeProvider = _time }.AddCircuitBreaker(breaker).Build();
        OpenAndElapse(breaker);
        _ = Probe(breaker);

        var first = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);
        var second = await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None);

        Assert.IsType<BrokenCircuitException>(first.Exception);
        Assert.Same(first.Exception, second.Exception);
    }

    [Fact]
    public async Task Pipeline_Isolated_ThrowsAFreshCopyEachTime_OutcomesShareOne()
    {
        var breaker = Create();
        var pipeline = new ResiliencePipelineBuilder("sm") { TimeProvider = _time }.AddCircuitBreaker(breaker).Build();
        breaker.Isolate();

        var thrown1 = await Assert.ThrowsAsync<BrokenCircuitException>(() => pipeline.ExecuteAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None).AsTask());
        var thrown2 = await Assert.ThrowsAsync<BrokenCircuitException>(() => pipeline.ExecuteAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None).AsTask());
        var shared1 = (await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None)).Exception;
        var shared2 = (await pipeline.ExecuteOutcomeAsync(static (_, _) => new ValueTask<int>(1), 0, CancellationToken.None)).Exception;

        // A shared instance thrown from many threads would have its stack trace rewritten under them.
        Assert.NotSame(thrown1, thrown2);
        Assert.Same(shared1, shared2);
        Assert.Equal(CircuitState.Isolated, thrown1.State);
    }

    private sealed class Counter(int value)
    {
        public int Value { get; set; } = value;
    }
}
