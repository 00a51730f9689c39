using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using Resilience.Time;

namespace Resilience.CircuitBreaking;

/// <content>
/// The state machine's transitions: closed to open on failures, half-open to closed or open on the probes' results, each
/// under the lock, then raised (log, telemetry, callbacks) outside it; and the rejections each state hands out.
/// </content>
public sealed partial class CircuitBreaker
{
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
        _closedSignal ??= new CancellationTokenSource();
        _openRejection = ExceptionDispatchInfo.Capture(
            new BrokenCircuitException(Name, CircuitState.Open, breakDuration) { SharedBy = this, SharedUntil = breakUntil, CircuitClosed = _closedSignal.Token });
        Volatile.Write(ref _breakUntil, breakUntil);
        var change = SetStateLocked(from, CircuitState.Open, reason, breakDuration, exception);
        StartBreakTimerLocked(breakDuration);
        return change;
    }

    private CircuitStateChange CloseLocked(CircuitTransitionReason reason)
    {
        var from = (CircuitState)_state;
        ClearCountsLocked();
        // Stryker disable once Statement : a timer left running carries the generation of the closed outage and cannot end a later break
        StopBreakTimerLocked();
        _currentBreak = _baseBreak;
        _openedAt = null;

        // Asynchronously: the waiting calls resume on the pool, not one after another on the thread that closed the circuit.
        _ = _closedSignal?.CancelAsync();
        _closedSignal = null;
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
        _cluster?.OnTransition(in change);
        // Read once: UpdateOptions may replace it meanwhile.
        if (_onStateChanged is not { } onStateChanged)
        {
            return;
        }

        try
        {
            onStateChanged(change);
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
        // Stryker disable once NullCoalescing : unreachable: GetCachedRejection comes here for an open refusal only without an opening's rejection, and OpenLocked sets one before it publishes Open
        CircuitState.Open => _openRejection ?? ExceptionDispatchInfo.Capture(CreateRejection(in refused)),
        CircuitState.HalfOpen => _probingRejection ?? ExceptionDispatchInfo.Capture(CreateRejection(in refused)),
        _ => IsolatedRejection,
    };

    internal BrokenCircuitException CreateRejection(in CircuitPermit refused) => new(Name, refused.RefusedBy, refused.RemainingBreak);

    private static long ToTimestampTicks(TimeSpan duration) => duration.Ticks;

    private static TimeSpan ToTimeSpan(long ticks) => TimeSpan.FromTicks(Math.Max(0, ticks));
}
