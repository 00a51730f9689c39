using System.Runtime.CompilerServices;

namespace Resilience.CircuitBreaking;

/// <summary>Permission to make one call through a <see cref="CircuitBreaker"/>, obtained from <see cref="CircuitBreaker.TryAcquire"/>.</summary>
/// <remarks>
/// <para>
/// Report the call's end once: <see cref="Succeeded"/>, <see cref="Failed"/>, or <see cref="Release"/> when the call
/// ended without a verdict (e.g. the caller canceled it). Only the first report counts; later ones are no-ops. A
/// permit is a mutable value: report on the variable <see cref="CircuitBreaker.TryAcquire"/> filled (or by
/// <see langword="ref"/>), not on a copy or a <see langword="readonly"/> field. For probe permits the breaker itself also
/// tracks each probe, so even a copy cannot report a probe twice.
/// </para>
/// <para>
/// A refused permit (the default value included) ignores these calls and tells, through <see cref="RemainingBreak"/>,
/// how long until the circuit admits a call again. The permit records when the call started, for slow-call detection.
/// </para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1815:Override equals and operator equals on value types", Justification = "A permit is never compared.")]
public struct CircuitPermit
{
    internal const byte KindRefused = 0;
    internal const byte KindNormal = 1;
    internal const byte KindProbe = 2;

    private readonly CircuitBreaker? _breaker;

    // Acquired: the start timestamp (0 when slow calls are not tracked). Refused with a breaker: when the refusal ends,
    // in MonotonicClock time (computed on demand); refused without one: the remaining time in TimeSpan ticks.
    private readonly long _value;

    // Acquired: the breaker's generation. Refused: the state that refused (a CircuitState).
    private readonly int _generation;

    // The probe's slot in the breaker's table of the current half-open period.
    private readonly ushort _slot;
    private readonly byte _kind;
    private bool _completed;

    internal CircuitPermit(CircuitBreaker? breaker, long value, int generation, byte kind, ushort slot = 0)
    {
        _breaker = breaker;
        _value = value;
        _generation = generation;
        _kind = kind;
        _slot = slot;
        _completed = false;
    }

    /// <summary>Gets a value indicating whether the call may proceed.</summary>
    public readonly bool IsAcquired => _kind != KindRefused;

    /// <summary>Gets a value indicating whether this permit is one of the half-open circuit's probe calls.</summary>
    public readonly bool IsProbe => _kind == KindProbe;

    /// <summary>Gets how long until the circuit admits a call again, for a refused permit; <see cref="TimeSpan.Zero"/> for an acquired one.</summary>
    /// <value>
    /// When open: the break left. When half-open with every probe slot taken: the time until the probes are given up
    /// (<see cref="CircuitBreakerOptions.ProbeTimeout"/>) at the latest. When isolated: <see cref="Timeout.InfiniteTimeSpan"/>.
    /// </value>
    public readonly TimeSpan RemainingBreak => _kind != KindRefused
        ? TimeSpan.Zero
        : _breaker is null ? new TimeSpan(_value) : _breaker.RemainingUntil(_value);

    /// <summary>Gets the state that refused the call (<see cref="CircuitState.Closed"/> for an acquired permit).</summary>
    internal readonly CircuitState RefusedBy => _kind == KindRefused ? (CircuitState)_generation : CircuitState.Closed;

    internal readonly long StartTimestamp => _value;

    internal readonly int Generation => _generation;

    internal readonly ushort Slot => _slot;

    internal readonly byte Kind => _kind;

    /// <summary>Reports that the call succeeded (a call slower than the slow-call threshold is counted as a failure).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Succeeded()
    {
        if (_kind != KindRefused && !_completed)
        {
            _completed = true;
            _breaker!.OnSuccess(_value, _generation, _kind, _slot);
        }
    }

    /// <summary>Reports that the call failed in a way that counts against the dependency.</summary>
    /// <param name="exception">The failure, reported to the state-change callback and logs; <see langword="null"/> for a failed result.</param>
    public void Failed(Exception? exception = null)
    {
        if (_kind != KindRefused && !_completed)
        {
            _completed = true;
            _breaker!.OnFailure(in this, exception);
        }
    }

    /// <summary>Reports that the call ended without a verdict (e.g. canceled by the caller): nothing is counted and a probe slot is freed.</summary>
    public void Release()
    {
        if (_kind != KindRefused && !_completed)
        {
            _completed = true;
            if (_kind == KindProbe)
            {
                _breaker!.OnProbeReleased(in this);
            }
        }
    }
}
