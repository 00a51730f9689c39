using System.Runtime.ExceptionServices;
using Resilience.Time;

namespace Resilience.CircuitBreaking;

/// <content>
/// Admission outside the closed fast path: an open circuit whose break has ended lets probes in, a half-open one counts
/// them into slots, an isolated one refuses, and every refusal is counted.
/// </content>
public sealed partial class CircuitBreaker
{
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

            if (state == StateOpen && (_elapsedGeneration == _generation || now >= _breakUntil) && _cluster is { MayProbe: false } cluster)
            {
                // Another instance probes for the cluster: stay open (the refusal below) and look again after one sync.
                DeferProbeLocked(now, cluster.ProbeWait);
            }
            else if (state == StateOpen && (_elapsedGeneration == _generation || now >= _breakUntil))
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
                        new BrokenCircuitException(Name, CircuitState.HalfOpen, _probeTimeout) { SharedBy = this, SharedUntil = _probeDeadline, CircuitClosed = _closedSignal?.Token ?? default });
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

    /// <summary>Starts a half-open period afresh; a probe count changed by <see cref="UpdateOptions"/> takes effect here, never mid-period.</summary>
    private void ClearProbesLocked()
    {
        _probesAdmitted = 0;
        _probeSuccesses = 0;
        _permittedProbes = Settings.PermittedProbes;
        if (_probeSlots.Length != _permittedProbes)
        {
            _probeSlots = new byte[_permittedProbes];
        }
        else
        {
            Array.Clear(_probeSlots);
        }
    }

    private ExceptionDispatchInfo IsolatedRejection =>
        _isolatedRejection ??= ExceptionDispatchInfo.Capture(new BrokenCircuitException(Name, CircuitState.Isolated, Timeout.InfiniteTimeSpan) { SharedBy = this });

    private bool CountRejection()
    {
        Interlocked.Increment(ref _rejections);
        _telemetry.RecordRejection(Name);
        return false;
    }

    /// <summary>Gets the break of the current opening (grown by failed probes).</summary>
    internal TimeSpan CurrentBreak
    {
        get
        {
            lock (_lock)
            {
                return _currentBreak;
            }
        }
    }

    /// <summary>The break left until <paramref name="breakUntil"/> (a <see cref="MonotonicClock"/> time).</summary>
    internal TimeSpan RemainingUntil(long breakUntil) => ToTimeSpan(breakUntil - _clock.Now);
}
