using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Telemetry;
using Resilience.Time;

namespace Resilience.CircuitBreaking;

/// <summary>Stops calling a failing dependency for a while, then probes it before letting traffic through again.</summary>
/// <remarks>
/// <para>Thread-safe. The closed-state success path takes no lock and allocates nothing: one volatile read of the state
/// and at most one write (none in consecutive mode while no failure is pending). Locks are taken only on state changes.</para>
/// <para>Use <see cref="TryAcquire"/> with the returned <see cref="CircuitPermit"/> to fast-fail without exceptions, the
/// <c>Execute</c>/<c>ExecuteAsync</c> overloads (which throw <see cref="BrokenCircuitException"/> when rejected), or
/// <c>ExecuteOutcomeAsync</c> (which never throws). Results are judged by an optional <c>shouldHandleResult</c> predicate, so
/// they are never boxed; exceptions by <see cref="CircuitBreakerOptions.ShouldHandle"/>. Cancellation requested by the
/// caller's token never counts as a failure.</para>
/// </remarks>
public sealed partial class CircuitBreaker
{
    private const int StateClosed = (int)CircuitState.Closed;
    private const int StateOpen = (int)CircuitState.Open;
    private const int StateHalfOpen = (int)CircuitState.HalfOpen;
    private const int StateIsolated = (int)CircuitState.Isolated;

    private const byte ProbeFree = 0;
    private const byte ProbeInFlight = 1;
    private const byte ProbeSucceeded = 2;

    private readonly TimeProvider _time;
    private readonly MonotonicClock _clock;
    private readonly ILogger _logger;
    private readonly CircuitBreakerTelemetry _telemetry;
    private readonly HealthRing? _ring;
    private readonly int _failureThreshold;
    private readonly double _failureRatio;
    private readonly int _minimumThroughput;
    private readonly long _slowCallTicks;
    private readonly int _permittedProbes;
    private readonly TimeSpan _baseBreak;
    private readonly TimeSpan _maxBreak;
    private readonly double _breakFactor;
    private readonly TimeSpan _probeTimeout;
    private readonly Func<Exception, bool>? _shouldHandle;
    private readonly Action<CircuitStateChange>? _onStateChanged;
    private readonly Lock _lock = new();

    private volatile int _state;
    private int _consecutiveFailures;
    private int _generation;

    // Guarded by _lock (written only there; _breakUntil also read lock-free after the volatile read of _state).
    private long _breakUntil;
    private TimeSpan _currentBreak;
    private DateTimeOffset? _openedAt;
    private int _probesAdmitted;
    private int _probeSuccesses;

    // One entry per permitted probe of the current half-open period, so each probe counts once however often it reports.
    private readonly byte[] _probeSlots;
    private volatile ExceptionDispatchInfo? _openRejection;
    private volatile ExceptionDispatchInfo? _probingRejection;
    private ExceptionDispatchInfo? _isolatedRejection;

    // When the probes of the current half-open period are overdue (a probe that never reports must not wedge the breaker).
    private long _probeDeadline;

    private long _rejections;
    private long _transitions;

    /// <summary>Initializes a new instance of the <see cref="CircuitBreaker"/> class.</summary>
    /// <param name="name">The breaker's name, used in exceptions, logs and metrics.</param>
    /// <param name="options">The options; validated here, copied, and not observed afterwards.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger; <see cref="NullLogger.Instance"/> when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter the breaker's instruments report on (DI's <see cref="IMeterFactory"/>); the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid; the message lists every error.</exception>
    public CircuitBreaker(string name, CircuitBreakerOptions options, TimeProvider? timeProvider = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        CircuitBreakerOptionsValidator.ThrowIfInvalid(name, options);

        Name = name;
        Mode = options.Mode;
        Settings = new CircuitBreakerOptions(options);
        _time = timeProvider ?? TimeProvider.System;
        _clock = new MonotonicClock(_time);
        _logger = logger ?? NullLogger.Instance;
        _telemetry = ResilienceMeter.Instruments<CircuitBreakerTelemetry>(meterFactory);
        _failureThreshold = options.FailureThreshold;
        _failureRatio = options.FailureRatio;
        _minimumThroughput = options.MinimumThroughput;
        _permittedProbes = options.PermittedProbes;
        _baseBreak = options.BreakDuration;
        _currentBreak = options.BreakDuration;
        _maxBreak = options.BreakDurationFactor > 1.0 ? options.MaxBreakDuration : options.BreakDuration;
        _breakFactor = options.BreakDurationFactor;
        _probeTimeout = options.ProbeTimeout;
        _probeSlots = new byte[options.PermittedProbes];
        _shouldHandle = options.ShouldHandle;
        _onStateChanged = options.OnStateChanged;
        _slowCallTicks = options.SlowCallThreshold is { } slow ? ToTimestampTicks(slow) : 0;
        if (options.Mode == CircuitBreakerMode.FailureRatio)
        {
            _ring = new HealthRing(options.SamplingBuckets, ToTimestampTicks(options.SamplingDuration / options.SamplingBuckets));
        }
    }

    /// <summary>Gets the breaker's name.</summary>
    public string Name { get; }

    /// <summary>Gets a copy of the options the breaker was created with (for the registry's conflict check).</summary>
    internal CircuitBreakerOptions Settings { get; }

    /// <summary>Gets how the breaker decides to open.</summary>
    public CircuitBreakerMode Mode { get; }

    /// <summary>Gets the current state (an open circuit whose break has elapsed reports <see cref="CircuitState.Open"/> until a call probes it).</summary>
    public CircuitState State => (CircuitState)_state;

    /// <summary>Asks to make a call; never throws and never allocates.</summary>
    /// <param name="permit">The permit: report the call's end on it. When refused, it carries the remaining break.</param>
    /// <returns><see langword="true"/> when the call may proceed.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAcquire(out CircuitPermit permit)
    {
        var state = _state;
        if (state == StateClosed)
        {
            permit = new CircuitPermit(this, _slowCallTicks != 0 ? _clock.Now : 0, _generation, CircuitPermit.KindNormal);
            return true;
        }

        if (state == StateOpen && Volatile.Read(ref _elapsedGeneration) != _generation && !ShouldCheckClock())
        {
            // The fast-fail path: no lock, no clock; the remaining break is computed only if the caller asks the permit.
            permit = new CircuitPermit(this, Volatile.Read(ref _breakUntil), StateOpen, CircuitPermit.KindRefused);
            _telemetry.RecordRejection(Name);
            return false;
        }

        return TryAcquireSlow(out permit);
    }

    /// <summary>Holds the circuit open, rejecting every call, until <see cref="Reset"/> is called.</summary>
    public void Isolate()
    {
        CircuitStateChange change;
        lock (_lock)
        {
            if (_state == StateIsolated)
            {
                return;
            }

            var from = (CircuitState)_state;
            _openedAt = _time.GetUtcNow();
            _breakUntil = long.MaxValue;
            StopBreakTimerLocked();
            change = SetStateLocked(from, CircuitState.Isolated, CircuitTransitionReason.Isolated, TimeSpan.Zero, null);
        }

        Raise(in change);
    }

    /// <summary>Closes the circuit and clears its failure counts and grown break, whatever its state.</summary>
    public void Reset()
    {
        CircuitStateChange change;
        lock (_lock)
        {
            if (_state == StateClosed)
            {
                ClearCountsLocked();
                return;
            }

            change = CloseLocked(CircuitTransitionReason.Reset);
        }

        Raise(in change);
    }

    /// <summary>Returns the current state and counters.</summary>
    /// <returns>The snapshot.</returns>
    public CircuitBreakerSnapshot GetSnapshot()
    {
        lock (_lock)
        {
            var state = (CircuitState)_state;
            int failures, calls = 0;
            if (_ring is null)
            {
                failures = Volatile.Read(ref _consecutiveFailures);
            }
            else
            {
                (failures, calls) = _ring.Sum(_clock.Now);
            }

            DateTimeOffset? nextProbe = state == CircuitState.Open ? _openedAt + _currentBreak : null;
            return new CircuitBreakerSnapshot(
                state,
                failures,
                calls,
                _openedAt,
                nextProbe,
                _currentBreak,
                Interlocked.Read(ref _rejections),
                Interlocked.Read(ref _transitions));
        }
    }

    internal void OnSuccess(in CircuitPermit permit)
    {
        long now = 0;
        if (_slowCallTicks != 0)
        {
            now = _clock.Now;
            if (now - permit.StartTimestamp >= _slowCallTicks)
            {
                OnFailure(in permit, null);
                return;
            }
        }

        if (permit.Kind == CircuitPermit.KindProbe)
        {
            OnProbeCompleted(in permit, success: true, null);
            return;
        }

        // A call admitted before the last state change says nothing about the current closed period.
        if (permit.Generation != Volatile.Read(ref _generation))
        {
            return;
        }

        if (_ring is null)
        {
            // Write only when a failure is pending, so the common case stays a read.
            if (_consecutiveFailures != 0)
            {
                Volatile.Write(ref _consecutiveFailures, 0);
            }
        }
        else
        {
            _ring.Record(now != 0 ? now : _clock.Now, failure: false);
        }
    }

    internal void OnFailure(in CircuitPermit permit, Exception? exception)
    {
        if (permit.Kind == CircuitPermit.KindProbe)
        {
            OnProbeCompleted(in permit, success: false, exception);
            return;
        }

        // A call admitted before the last state change says nothing about the current closed period.
        if (_state != StateClosed || permit.Generation != Volatile.Read(ref _generation))
        {
            return;
        }

        if (_ring is null)
        {
            if (Interlocked.Increment(ref _consecutiveFailures) >= _failureThreshold)
            {
                TripFromClosed(permit.Generation, CircuitTransitionReason.ConsecutiveFailures, exception);
            }
        }
        else
        {
            var now = _clock.Now;
            _ring.Record(now, failure: true);
            var (failures, calls) = _ring.Sum(now);
            if (calls >= _minimumThroughput && failures >= _failureRatio * calls)
            {
                TripFromClosed(permit.Generation, CircuitTransitionReason.FailureRatio, exception);
            }
        }
    }

    internal void OnProbeReleased(in CircuitPermit permit)
    {
        lock (_lock)
        {
            if (_state == StateHalfOpen && _generation == permit.Generation && _probeSlots[permit.Slot] == ProbeInFlight)
            {
                _probeSlots[permit.Slot] = ProbeFree;
                _probesAdmitted--;
            }
        }
    }

    private bool TryAcquireSlow(out CircuitPermit permit)
    {
        var state = _state;
        if (state == StateIsolated)
        {
            return Reject(out permit);
        }

        var now = _clock.Now;

        CircuitStateChange change = default;
        var changed = false;
        var abandoned = 0;
        long refusedUntil = 0;
        lock (_lock)
        {
            state = _state;
            if (state == StateClosed)
            {
                permit = new CircuitPermit(this, _slowCallTicks != 0 ? now : 0, _generation, CircuitPermit.KindNormal);
                return true;
            }

            if (state == StateOpen && (_elapsedGeneration == _generation || now >= _breakUntil))
            {
                ClearProbesLocked();
                change = SetStateLocked(CircuitState.Open, CircuitState.HalfOpen, CircuitTransitionReason.BreakElapsed, TimeSpan.Zero, null);
                changed = true;
                state = StateHalfOpen;
            }

            if (state == StateHalfOpen && _probesAdmitted >= _permittedProbes && now >= _probeDeadline)
            {
                // The probes never reported (hung, or a permit dropped): forget them, so their late results are ignored, and probe again.
                abandoned = _probesAdmitted - _probeSuccesses;
                Volatile.Write(ref _generation, _generation + 1);
                ClearProbesLocked();
            }

            if (state == StateHalfOpen && _probesAdmitted < _permittedProbes)
            {
                if (_probesAdmitted == 0)
                {
                    _probeDeadline = now + _probeTimeout.Ticks;
                    _probingRejection = ExceptionDispatchInfo.Capture(
                        new BrokenCircuitException(Name, CircuitState.HalfOpen, _probeTimeout) { SharedBy = this, SharedUntil = _probeDeadline });
                }

                int slot = Array.IndexOf(_probeSlots, ProbeFree);
                _probeSlots[slot] = ProbeInFlight;
                _probesAdmitted++;
                permit = new CircuitPermit(this, now, _generation, CircuitPermit.KindProbe, (ushort)slot);
            }
            else
            {
                permit = default;
                refusedUntil = state == StateOpen ? _breakUntil : _probeDeadline;
            }
        }

        if (abandoned > 0)
        {
            _telemetry.RecordAbandonedProbes(Name, abandoned);
            CircuitBreakerLog.ProbeAbandoned(_logger, Name, abandoned, _probeTimeout);
        }

        if (changed)
        {
            Raise(in change);
        }

        if (permit.IsAcquired)
        {
            return true;
        }

        // Open: the break left; half-open with every probe in flight: the time until they are given up at the latest.
        permit = new CircuitPermit(this, refusedUntil, state, CircuitPermit.KindRefused);
        return CountRejection();
    }

    private bool Reject(out CircuitPermit permit)
    {
        permit = new CircuitPermit(null, Timeout.InfiniteTimeSpan.Ticks, StateIsolated, CircuitPermit.KindRefused);
        return CountRejection();
    }

    private void ClearProbesLocked()
    {
        _probesAdmitted = 0;
        _probeSuccesses = 0;
        Array.Clear(_probeSlots);
    }

    private bool CountRejection()
    {
        Interlocked.Increment(ref _rejections);
        _telemetry.RecordRejection(Name);
        return false;
    }

    /// <summary>The break left until <paramref name="breakUntil"/> (a <see cref="MonotonicClock"/> time).</summary>
    internal TimeSpan RemainingUntil(long breakUntil) => ToTimeSpan(breakUntil - _clock.Now);

    private void TripFromClosed(int generation, CircuitTransitionReason reason, Exception? exception)
    {
        CircuitStateChange change;
        lock (_lock)
        {
            if (_state != StateClosed || _generation != generation)
            {
                return;
            }

            change = OpenLocked(CircuitState.Closed, reason, exception, _baseBreak);
        }

        Raise(in change);
    }

    private void OnProbeCompleted(in CircuitPermit permit, bool success, Exception? exception)
    {
        CircuitStateChange change;
        lock (_lock)
        {
            // A probe of an earlier period (abandoned, or the circuit moved on), or one that already reported, counts no more.
            if (_state != StateHalfOpen || _generation != permit.Generation || _probeSlots[permit.Slot] != ProbeInFlight)
            {
                return;
            }

            if (!success)
            {
                var grown = _breakFactor > 1.0 ? TimeSpan.FromTicks((long)Math.Min(_currentBreak.Ticks * _breakFactor, _maxBreak.Ticks)) : _currentBreak;
                change = OpenLocked(CircuitState.HalfOpen, CircuitTransitionReason.ProbeFailed, exception, grown);
            }
            else
            {
                _probeSlots[permit.Slot] = ProbeSucceeded;
                if (++_probeSuccesses < _permittedProbes)
                {
                    return;
                }

                change = CloseLocked(CircuitTransitionReason.ProbesSucceeded);
            }
        }

        Raise(in change);
    }

    private CircuitStateChange OpenLocked(CircuitState from, CircuitTransitionReason reason, Exception? exception, TimeSpan breakDuration)
    {
        var now = _clock.Now;
        _currentBreak = breakDuration;
        _openedAt = _time.GetUtcNow();
        long breakUntil = now + ToTimestampTicks(breakDuration);
        _openRejection = ExceptionDispatchInfo.Capture(new BrokenCircuitException(Name, CircuitState.Open, breakDuration) { SharedBy = this, SharedUntil = breakUntil });
        Volatile.Write(ref _breakUntil, breakUntil);
        var change = SetStateLocked(from, CircuitState.Open, reason, breakDuration, exception);
        StartBreakTimerLocked(breakDuration);
        return change;
    }

    private CircuitStateChange CloseLocked(CircuitTransitionReason reason)
    {
        var from = (CircuitState)_state;
        ClearCountsLocked();
        StopBreakTimerLocked();
        _currentBreak = _baseBreak;
        _openedAt = null;
        return SetStateLocked(from, CircuitState.Closed, reason, TimeSpan.Zero, null);
    }

    private void ClearCountsLocked()
    {
        Volatile.Write(ref _consecutiveFailures, 0);
        _ring?.Clear();
    }

    private CircuitStateChange SetStateLocked(CircuitState from, CircuitState to, CircuitTransitionReason reason, TimeSpan breakDuration, Exception? exception)
    {
        // The generation changes before the state is published, so permits of the previous state are recognised as stale.
        Volatile.Write(ref _generation, _generation + 1);
        long sequence = Interlocked.Increment(ref _transitions);
        _state = (int)to;
        return new CircuitStateChange(sequence, Name, from, to, reason, breakDuration, exception);
    }

    private void Raise(in CircuitStateChange change)
    {
        _telemetry.RecordTransition(in change);
        CircuitBreakerLog.Transition(_logger, in change);
        if (_onStateChanged is null)
        {
            return;
        }

        try
        {
            _onStateChanged(change);
        }
        catch (Exception e)
        {
            // The call that caused the change must not fail because an observer did; the failure is logged, not lost.
            CircuitBreakerLog.StateChangedCallbackFailed(_logger, e, Name);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ExceptionDispatchInfo GetCachedRejection(in CircuitPermit refused) =>
        refused.RefusedBy == CircuitState.Open && _openRejection is { } open ? open : GetOtherRejection(in refused);

    private ExceptionDispatchInfo GetOtherRejection(in CircuitPermit refused) => refused.RefusedBy switch
    {
        CircuitState.Open => _openRejection ?? ExceptionDispatchInfo.Capture(CreateRejection(in refused)),
        CircuitState.HalfOpen => _probingRejection ?? ExceptionDispatchInfo.Capture(CreateRejection(in refused)),
        _ => _isolatedRejection ??= ExceptionDispatchInfo.Capture(new BrokenCircuitException(Name, CircuitState.Isolated, Timeout.InfiniteTimeSpan) { SharedBy = this }),
    };

    internal BrokenCircuitException CreateRejection(in CircuitPermit refused) => new(Name, refused.RefusedBy, refused.RemainingBreak);

    private static long ToTimestampTicks(TimeSpan duration) => duration.Ticks;

    private static TimeSpan ToTimeSpan(long ticks) => TimeSpan.FromTicks(Math.Max(0, ticks));
}
