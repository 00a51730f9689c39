using System.Runtime.CompilerServices;

namespace Resilience.CircuitBreaking;

/// <summary>Permission to make one call through a <see cref="CircuitBreaker"/>, obtained from <see cref="CircuitBreaker.TryAcquire"/>.</summary>
/// <remarks>
/// Report the call's end exactly once: <see cref="Succeeded"/>, <see cref="Failed"/>, or <see cref="Release"/> when the
/// call ended without a verdict (e.g. the caller canceled it). A refused permit (the default value included) ignores
/// these calls and tells, through <see cref="RemainingBreak"/>, how long the circuit stays open.
/// The permit records when the call started, for slow-call detection.
/// </remarks>
public readonly struct CircuitPermit
{
    internal const byte KindRefused = 0;
    internal const byte KindNormal = 1;
    internal const byte KindProbe = 2;

    private readonly CircuitBreaker? _breaker;

    // For an acquired permit: the start timestamp (0 when slow calls are not tracked); for a refused one: the remaining break in TimeSpan ticks.
    private readonly long _value;
    private readonly int _generation;
    private readonly byte _kind;

    internal CircuitPermit(CircuitBreaker? breaker, long value, int generation, byte kind)
    {
        _breaker = breaker;
        _value = value;
        _generation = generation;
        _kind = kind;
    }

    /// <summary>Gets a value indicating whether the call may proceed.</summary>
    public bool IsAcquired => _kind != KindRefused;

    /// <summary>Gets a value indicating whether this permit is one of the half-open circuit's probe calls.</summary>
    public bool IsProbe => _kind == KindProbe;

    /// <summary>Gets how long the circuit stays open, for a refused permit; <see cref="TimeSpan.Zero"/> for an acquired one.</summary>
    /// <value><see cref="TimeSpan.Zero"/> when half-open with every probe slot taken; <see cref="Timeout.InfiniteTimeSpan"/> when isolated.</value>
    public TimeSpan RemainingBreak => _kind != KindRefused
        ? TimeSpan.Zero
        : _breaker is null ? new TimeSpan(_value) : _breaker.RemainingUntil(_value);

    // A refusal by an open circuit keeps its breaker and the break's end, so the remaining break is computed on demand.
    internal bool IsOpenRefusal => _kind == KindRefused && _breaker is not null;

    internal long StartTimestamp => _value;

    internal int Generation => _generation;

    internal byte Kind => _kind;

    /// <summary>Reports that the call succeeded (a call slower than the slow-call threshold is counted as a failure).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Succeeded()
    {
        if (_kind != KindRefused)
        {
            _breaker!.OnSuccess(in this);
        }
    }

    /// <summary>Reports that the call failed in a way that counts against the dependency.</summary>
    /// <param name="exception">The failure, reported to the state-change callback and logs; <see langword="null"/> for a failed result.</param>
    public void Failed(Exception? exception = null)
    {
        if (_kind != KindRefused)
        {
            _breaker!.OnFailure(in this, exception);
        }
    }

    /// <summary>Reports that the call ended without a verdict (e.g. canceled by the caller): nothing is counted and a probe slot is freed.</summary>
    public void Release()
    {
        if (_kind == KindProbe)
        {
            _breaker!.OnProbeReleased(in this);
        }
    }
}
