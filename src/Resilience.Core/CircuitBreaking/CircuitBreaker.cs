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
/// <para>A handle: calls run through a pipeline with <c>AddCircuitBreaker</c> (which throws or returns a
/// <see cref="BrokenCircuitException"/> when rejected); a caller that manages the call itself uses <see cref="TryAcquire"/>
/// and reports on the returned <see cref="CircuitPermit"/>, which never throws. Exceptions are judged by
/// <see cref="CircuitBreakerOptions.ShouldHandle"/>; cancellation requested by the caller's token never counts as a failure.</para>
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
    private readonly Lock _lock = new();

    // The tunables: written only under _lock (by the constructor and UpdateOptions), read lock-free, each on its own.
    private HealthRing? _ring;
    private int _failureThreshold;
    private double _failureRatio;
    private int _minimumThroughput;
    private long _slowCallTicks;
    private int _permittedProbes;
    private TimeSpan _baseBreak;
    private TimeSpan _maxBreak;
    private double _breakFactor;
    private TimeSpan _probeTimeout;
    private Func<Exception, bool>? _shouldHandle;
    private Action<CircuitStateChange>? _onStateChanged;

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
    private byte[] _probeSlots;
    private volatile ExceptionDispatchInfo? _openRejection;
    private volatile ExceptionDispatchInfo? _probingRejection;
    private ExceptionDispatchInfo? _isolatedRejection;

    // Cancelled when the circuit closes: a retry waiting out this outage's refusals wakes then, not at its own schedule.
    // One per outage (kept through half-open and re-opening), created with the opening, so the closed path never sees it.
    private CancellationTokenSource? _closedSignal;

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
        _time = timeProvider ?? TimeProvider.System;
        _clock = new MonotonicClock(_time);
        _logger = logger ?? NullLogger.Instance;
        _telemetry = ResilienceMeter.Instruments<CircuitBreakerTelemetry>(meterFactory);
        _currentBreak = options.BreakDuration;
        _probeSlots = new byte[options.PermittedProbes];
        lock (_lock)
        {
            ApplyLocked(options);
        }
    }

    /// <summary>Gets the breaker's name.</summary>
    public string Name { get; }

    /// <summary>Gets a copy of the options in force (for the registry's conflict check and the pipeline's description).</summary>
    internal CircuitBreakerOptions Settings { get; private set; } = null!;

    /// <summary>Gets how the breaker decides to open.</summary>
    public CircuitBreakerMode Mode { get; private set; }

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

        if (state == StateOpen && IsFastRejected())
        {
            // The fast-fail path: no lock, no clock; the remaining break is computed only if the caller asks the permit.
            permit = new CircuitPermit(this, Volatile.Read(ref _breakUntil), StateOpen, CircuitPermit.KindRefused);
            return false;
        }

        return TryAcquireSlow(out permit);
    }

    /// <summary>The pipeline layer's refusal of an open circuit whose break has not elapsed: no lock, no permit, no allocation.</summary>
    /// <param name="rejection">The opening's shared rejection.</param>
    /// <returns><see langword="true"/> when the call is refused.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryRefuseFast([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ExceptionDispatchInfo? rejection)
    {
        if (_state == StateOpen && _openRejection is { } open && IsFastRejected())
        {
            rejection = open;
            return true;
        }

        rejection = null;
        return false;
    }

    /// <summary>Gets which exceptions count as failures; all but the caller's cancellation when <see langword="null"/>.</summary>
    internal Func<Exception, bool>? ShouldHandle => _shouldHandle;

    /// <summary>
    /// With the circuit open: whether this call is refused without the lock, because the break has not elapsed (the
    /// clock is read once in 64 calls). Counts the rejection when it is.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsFastRejected()
    {
        if (Volatile.Read(ref _elapsedGeneration) == _generation || ShouldCheckClock())
        {
            return false;
        }

        _telemetry.RecordRejection(Name);
        return true;
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
            // Stryker disable once Statement : a timer left running carries the previous generation and an isolated circuit never reads it
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
            if (_ring is not { } ring)
            {
                failures = Volatile.Read(ref _consecutiveFailures);
            }
            else
            {
                (failures, calls) = ring.Sum(_clock.Now);
            }

            DateTimeOffset? nextProbe = state == CircuitState.Open ? _openedAt + _currentBreak : null;
            return new CircuitBreakerSnapshot(
                state,
                failures,
                calls,
                _openedAt,
                nextProbe,
                _currentBreak,
                Interlocked.Read(ref _rejections) + Volatile.Read(ref _fastRejections),
                Interlocked.Read(ref _transitions));
        }
    }

    /// <summary>Counts a success; the permit's fields come by value so the caller's permit can stay in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void OnSuccess(long startTimestamp, int generation, byte kind, ushort slot)
    {
        // The closed consecutive breaker's success: a read, and a write only when a failure is pending.
        if (kind == CircuitPermit.KindNormal && _ring is null && _slowCallTicks == 0)
        {
            if (_consecutiveFailures != 0 && generation == Volatile.Read(ref _generation))
            {
                Volatile.Write(ref _consecutiveFailures, 0);
            }

            // Stryker disable once Statement : the slow path does the same for this permit (generation check, then reset the pending count)
            return;
        }

        OnSuccessSlow(new CircuitPermit(this, startTimestamp, generation, kind, slot));
    }

    private void OnSuccessSlow(in CircuitPermit permit)
    {
        long now = 0;
        var slowCallTicks = _slowCallTicks;

        // A start of 0 is a permit taken while no slow-call threshold was set (one set by UpdateOptions since then).
        if (slowCallTicks != 0 && permit.StartTimestamp != 0)
        {
            now = _clock.Now;
            if (now - permit.StartTimestamp >= slowCallTicks)
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

        // Read once: UpdateOptions may swap the ring (a new mode or window).
        if (_ring is not { } ring)
        {
            // Write only when a failure is pending, so the common case stays a read.
            if (_consecutiveFailures != 0)
            {
                Volatile.Write(ref _consecutiveFailures, 0);
            }
        }
        else
        {
            // Stryker disable once Conditional : a non-zero now is a reading of the same clock a moment earlier, in the same thread
            ring.Record(now != 0 ? now : _clock.Now, failure: false);
        }
    }

    internal void OnFailure(in CircuitPermit permit, Exception? exception)
    {
        if (permit.Kind == CircuitPermit.KindProbe)
        {
            OnProbeCompleted(in permit, success: false, exception);
            // Stryker disable once Statement : the next guard returns anyway: a probe's generation is never the current closed one
            return;
        }

        // A call admitted before the last state change says nothing about the current closed period.
        if (_state != StateClosed || permit.Generation != Volatile.Read(ref _generation))
        {
            return;
        }

        if (_ring is not { } ring)
        {
            var failures = Interlocked.Increment(ref _consecutiveFailures);
            if (failures >= _failureThreshold)
            {
                TripFromClosed(permit.Generation, CircuitTransitionReason.ConsecutiveFailures, exception);
            }
            else
            {
                // A shared breaker's streak votes for the cluster's opening before it opens here (failure path only).
                Cluster?.FailureSeen(failures);
            }
        }
        else
        {
            var now = _clock.Now;
            ring.Record(now, failure: true);
            var (failures, calls) = ring.Sum(now);
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
}
