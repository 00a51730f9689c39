using System.Runtime.CompilerServices;

namespace Resilience.CircuitBreaking;

/// <content>
/// The break timer: a one-shot timer marks the end of a break so an open circuit rejects without reading the clock,
/// and one rejection in 64 reads it anyway in case the timer is late.
/// </content>
public sealed partial class CircuitBreaker
{
    // The generation whose break a one-shot timer has ended, so rejecting an open circuit need not read the clock.
    // A generation, not a flag: a late callback of an earlier opening can never end the current break.
    private int _elapsedGeneration = -1;
    private ITimer? _breakTimer;

    // Rejections of an open circuit counted on the fast path, without an atomic operation (see ShouldCheckClock).
    private long _fastRejections;

    /// <summary>
    /// Counts a fast rejection; one in 64 also consults the clock, so the break still ends on time when the timer is late
    /// (a starved thread pool during the very outage that opened the circuit).
    /// </summary>
    /// <remarks>
    /// A plain increment, not an interlocked one: the lock prefix alone would cost more than the rest of the rejection.
    /// Concurrent rejections may lose a count (the snapshot's figure is a lower bound; the rejections metric is exact),
    /// and a lost count only shifts which rejection reads the clock.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ShouldCheckClock()
    {
        long counted = _fastRejections + 1;
        _fastRejections = counted;
        return (counted & 63) == 0 && HasBreakEnded(counted);
    }

    // Out of line: one rejection in 64 gets here, and inlined it would make every rejection pay for the clock read's code.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool HasBreakEnded(long counted)
    {
        if (_clock.Now < Volatile.Read(ref _breakUntil))
        {
            return false;
        }

        // The slow path counts this call itself.
        _fastRejections = counted - 1;
        return true;
    }

    private void StartBreakTimerLocked(TimeSpan breakDuration)
    {
        // Stryker disable once Statement : a timer left running only leaks: it carries the generation of an earlier opening (or of this one, whose break already ended), so it cannot end a later break
        StopBreakTimerLocked();
        _breakTimer = _time.CreateTimer(static s => ((BreakTimerState)s!).Elapsed(), new BreakTimerState(this, _generation), breakDuration, Timeout.InfiniteTimeSpan);
    }

    // Stryker disable once Block : as in its statements: an undisposed timer only leaks, its generation cannot end a later break
    private void StopBreakTimerLocked()
    {
        // Stryker disable once Statement : as above: an undisposed timer only leaks, its generation cannot end a later break
        _breakTimer?.Dispose();
        _breakTimer = null;
    }

    /// <summary>What the break timer needs: the breaker, and which opening it belongs to (an old timer must not end a new break).</summary>
    private sealed class BreakTimerState(CircuitBreaker breaker, int generation)
    {
        public void Elapsed()
        {
            Volatile.Write(ref breaker._elapsedGeneration, generation);
        }
    }
}
