using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.Telemetry;

namespace Resilience.AdaptiveConcurrency;

/// <summary>
/// A concurrency limit that finds itself: it measures the latency of the calls it admits and moves the limit by the
/// gradient of the dependency's no-load latency against its recent latency (as Envoy's adaptive concurrency filter
/// does). When the dependency slows down because it is overloaded, the limit shrinks until latency is back within
/// <see cref="AdaptiveConcurrencyOptions.Tolerance"/> of the no-load level; while calls use the limit and latency holds,
/// it grows. Every <see cref="AdaptiveConcurrencyOptions.BaselineInterval"/> the limit drops to
/// <see cref="AdaptiveConcurrencyOptions.MinLimit"/> for a few calls to measure the no-load latency again.
/// </summary>
/// <remarks>
/// <para>Thread-safe and meant to be shared: one per dependency, added to its pipelines with <c>AddAdaptiveConcurrencyLimit</c>.
/// Admission takes no lock and allocates nothing; a window's update takes a lock on one thread while the others go on.</para>
/// <para>Why the no-load latency and not a moving long-term average (Netflix's Gradient2): under a sustained overload
/// the average catches up with the inflated latency and the limit creeps back up. In a simulation of a dependency whose
/// latency grows past 50 calls in flight, 300 windows left a moving-average limit at its maximum with 20 times the
/// unloaded latency, and this one at 84 calls with 1.7 times.</para>
/// <para>Only completed calls are samples: a timed-out call shrinks the limit (it has no latency to give), a call the
/// caller cancelled or that was refused inside says nothing about the dependency.</para>
/// </remarks>
public sealed partial class AdaptiveConcurrencyLimiter
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AdaptiveConcurrencyTelemetry _telemetry;
    private readonly AdaptiveConcurrencyOptions _options;
    private readonly Lock _updateLock = new();
    private readonly int _minLimit;
    private readonly int _maxLimit;

    private volatile int _limit;
    private int _inFlight;

    // The current window: written lock-free by completing calls, drained under _updateLock.
    private long _windowStart;
    private long _windowLatencyTicks;
    private int _windowSamples;
    private int _windowTimeouts;
    private int _windowMaxInFlight;

    // Guarded by _updateLock. _lastGradient: the last window's (1 while latency is within tolerance).
    private double _exactLimit;
    private double _lastGradient = 1.0;
    private double _baselineTicks;
    private long _nextProbe;

    // A probe of the no-load latency: while it runs the limit is MinLimit, and only calls started after it began count.
    private volatile bool _probing;
    private long _probeStart;
    private long _probeLatencyTicks;
    private int _probeSamples;

    // Read lock-free for refusals' RetryAfter.
    private long _shortLatencyTicks;

    // Read lock-free by waiters: the no-load latency (zero until measured) bounds the queue's wait.
    private long _baselineLatencyTicks;

    // After a cut, only calls admitted under the new limit are samples: those started once in-flight fell below it (the
    // first admission after the cut), since the ones before still queue behind the old limit's calls at the dependency.
    private long _sampleFrom;
    private volatile bool _cutPending;

    /// <summary>Initializes a new instance of the <see cref="AdaptiveConcurrencyLimiter"/> class.</summary>
    /// <param name="name">The limiter's name, in refusals, logs and metrics.</param>
    /// <param name="options">The options; validated here and copied.</param>
    /// <param name="timeProvider">The clock latency is measured with; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger; none when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter of the limiter's instruments; the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid; the message lists every error.</exception>
    public AdaptiveConcurrencyLimiter(string name, AdaptiveConcurrencyOptions options, TimeProvider? timeProvider = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        AdaptiveConcurrencyOptionsValidator.ThrowIfInvalid(options);
        Name = name;
        _options = new AdaptiveConcurrencyOptions(options);
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _minLimit = options.MinLimit;
        _maxLimit = options.MaxLimit;
        _exactLimit = options.InitialLimit;
        _limit = options.InitialLimit;
        _windowStart = _time.GetTimestamp();
        _nextProbe = _windowStart + TicksToTimestamp(options.BaselineInterval);
        _telemetry = ResilienceMeter.Instruments<AdaptiveConcurrencyTelemetry>(meterFactory);
        _telemetry.Register(this);
    }

    /// <summary>Gets the key of a call's priority in its <see cref="ResilienceContext.Properties"/>; a call without one is <see cref="CallPriority.Normal"/>.</summary>
    public static ResiliencePropertyKey<CallPriority> PriorityKey { get; } = new("resilience.priority");

    /// <summary>Gets the limiter's name.</summary>
    public string Name { get; }

    /// <summary>Gets a copy of the options in force.</summary>
    public AdaptiveConcurrencyOptions Options => new(_options);

    /// <summary>Gets the limit in force: how many calls may be in flight at once.</summary>
    public int Limit => _limit;

    /// <summary>Gets how many calls are in flight.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets the mean latency of the last window that had samples (zero before the first).</summary>
    public TimeSpan RecentLatency => TimeSpan.FromTicks(Volatile.Read(ref _shortLatencyTicks));

    internal TimeProvider TimeProvider => _time;

    /// <summary>Gets a value indicating whether the limit applies per attempt (<see cref="AdaptiveConcurrencyOptions.PerAttempt"/>).</summary>
    internal bool PerAttempt => _options.PerAttempt;

    /// <summary>What <paramref name="failure"/> tells the limit, by <see cref="AdaptiveConcurrencyOptions.ClassifyFailure"/>; a sample when that throws (the slot must still be given back).</summary>
    internal CallEnd Classify(Exception failure)
    {
        try
        {
            return _options.ClassifyFailure!(failure);
        }
        catch (Exception e)
        {
            AdaptiveConcurrencyLog.CallbackFailed(_logger, nameof(AdaptiveConcurrencyOptions.ClassifyFailure), Name, "the call counts as a latency sample", e);
            return CallEnd.Completed;
        }
    }

    /// <summary>
    /// Gets the longest a call may wait for a slot: <see cref="AdaptiveConcurrencyOptions.MaxQueueWait"/>, and never longer
    /// than half the no-load latency once measured: under a sustained overload the queue is always full and every call it
    /// admits has waited its longest, adding latency and no throughput; a short wait still absorbs a burst.
    /// </summary>
    internal TimeSpan MaxQueueWait
    {
        get
        {
            var baseline = Volatile.Read(ref _baselineLatencyTicks);
            return baseline > 0 && baseline / 2 < _options.MaxQueueWait.Ticks ? TimeSpan.FromTicks(baseline / 2) : _options.MaxQueueWait;
        }
    }

    /// <summary>Takes a slot if one is free for <paramref name="priority"/>; never waits, never allocates.</summary>
    internal bool TryAcquire(CallPriority priority)
    {
        // Arrivals do not overtake waiting calls (the queue would starve); critical ones go to its front instead.
        if (priority != CallPriority.Critical && Volatile.Read(ref _queued) > 0)
        {
            return false;
        }

        return TryTakeSlot(priority);
    }

    private bool TryTakeSlot(CallPriority priority)
    {
        var limit = _probing ? _minLimit : _limit;
        var cap = priority == CallPriority.Sheddable ? Math.Max(1, (int)(limit * _options.SheddableShare)) : limit;
        while (true)
        {
            var inFlight = Volatile.Read(ref _inFlight);
            if (inFlight >= cap)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _inFlight, inFlight + 1, inFlight) == inFlight)
            {
                if (_cutPending)
                {
                    _cutPending = false;
                    Volatile.Write(ref _sampleFrom, _time.GetTimestamp());
                }

                if (inFlight + 1 > Volatile.Read(ref _windowMaxInFlight))
                {
                    // A racy maximum is enough: it only tells a busy window from an idle one.
                    Volatile.Write(ref _windowMaxInFlight, inFlight + 1);
                }

                return true;
            }
        }
    }

    /// <summary>Gets a timestamp to measure a call's latency from.</summary>
    internal long Start() => _time.GetTimestamp();

    /// <summary>Gives the slot back and records how the call went: a latency sample, a timeout, or nothing.</summary>
    internal void Release(long started, CallEnd end)
    {
        var now = _time.GetTimestamp();
        if (_probing)
        {
            RecordProbe(started, now, end);
        }
        else if (end == CallEnd.TimedOut)
        {
            // A timeout is always a sign, whichever limit admitted the call.
            Interlocked.Increment(ref _windowTimeouts);
        }
        else if (started >= Volatile.Read(ref _sampleFrom))
        {
            // A call its caller gave up on says nothing, unless it had already run past the tolerance: a caller's
            // deadline firing on a slow dependency is the overload itself, and its time so far is a (low) sample.
            var elapsed = _time.GetElapsedTime(started, now).Ticks;
            var baseline = Volatile.Read(ref _baselineLatencyTicks);
            if (end == CallEnd.Completed || (baseline > 0 && elapsed > _options.Tolerance * baseline))
            {
                Interlocked.Add(ref _windowLatencyTicks, Math.Max(1, elapsed));
                Interlocked.Increment(ref _windowSamples);
            }
        }

        Interlocked.Decrement(ref _inFlight);
        if (!_probing
            && _time.GetElapsedTime(Volatile.Read(ref _windowStart), now) >= _options.SampleWindow
            && (Volatile.Read(ref _windowSamples) >= AdaptiveConcurrencyConstants.MinWindowSamples || Volatile.Read(ref _windowTimeouts) > 0))
        {
            TryCloseWindow(now);
        }

        if (Volatile.Read(ref _queued) > 0)
        {
            GrantWaiters();
        }
    }

    private void RecordProbe(long started, long now, CallEnd end)
    {
        if (end == CallEnd.Completed && started >= Volatile.Read(ref _probeStart))
        {
            Interlocked.Add(ref _probeLatencyTicks, Math.Max(1, _time.GetElapsedTime(started, now).Ticks));
            Interlocked.Increment(ref _probeSamples);
        }

        var timeout = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, (long)_baselineTicks * AdaptiveConcurrencyConstants.ProbeTimeoutFactor));
        if (Volatile.Read(ref _probeSamples) >= AdaptiveConcurrencyConstants.ProbeSamples || _time.GetElapsedTime(Volatile.Read(ref _probeStart), now) >= timeout)
        {
            EndProbe(now);
        }
    }

    private void EndProbe(long now)
    {
        lock (_updateLock)
        {
            if (!_probing)
            {
                return;
            }

            var samples = Interlocked.Exchange(ref _probeSamples, 0);
            var latencyTicks = Interlocked.Exchange(ref _probeLatencyTicks, 0);
            if (samples > 0)
            {
                _baselineTicks = latencyTicks / (double)samples;
                Volatile.Write(ref _baselineLatencyTicks, (long)_baselineTicks);
            }

            // The window starts afresh: the calls it held were admitted under the probe's limit.
            Volatile.Write(ref _windowStart, now);
            Interlocked.Exchange(ref _windowSamples, 0);
            Interlocked.Exchange(ref _windowLatencyTicks, 0);
            Interlocked.Exchange(ref _windowTimeouts, 0);
            Interlocked.Exchange(ref _windowMaxInFlight, 0);
            _nextProbe = now + TicksToTimestamp(_options.BaselineInterval);
            _probing = false;
        }
    }

    private long TicksToTimestamp(TimeSpan span) => (long)(span.Ticks * (double)_time.TimestampFrequency / TimeSpan.TicksPerSecond);

    /// <summary>The refusal of a call, counted and logged.</summary>
    internal ConcurrencyLimitRejectedException Reject(CallPriority priority, string reason, bool waited)
    {
        var limit = _limit;
        _telemetry.RecordRejection(Name, reason, priority);
        AdaptiveConcurrencyLog.Rejected(_logger, Name, limit, priority, reason);
        var retryAfter = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, Volatile.Read(ref _shortLatencyTicks)));
        return new ConcurrencyLimitRejectedException(Name, limit, waited, retryAfter);
    }

    private void TryCloseWindow(long now)
    {
        // One thread updates; the others do not wait for it (their samples go to the next window).
        if (!_updateLock.TryEnter())
        {
            return;
        }

        try
        {
            if (_time.GetElapsedTime(_windowStart, now) < _options.SampleWindow)
            {
                return;
            }

            Volatile.Write(ref _windowStart, now);
            var samples = Interlocked.Exchange(ref _windowSamples, 0);
            var latencyTicks = Interlocked.Exchange(ref _windowLatencyTicks, 0);
            var timeouts = Interlocked.Exchange(ref _windowTimeouts, 0);
            var maxInFlight = Interlocked.Exchange(ref _windowMaxInFlight, Volatile.Read(ref _inFlight));
            Update(samples, latencyTicks, timeouts, maxInFlight);
            if (now >= _nextProbe && _lastGradient >= 1.0 && timeouts == 0)
            {
                // Latency within tolerance of the baseline: the baseline still holds, and a probe would refuse calls for
                // nothing (a faster dependency lowers the baseline without one). Probe only while the limit is cutting.
                _nextProbe = now + TicksToTimestamp(_options.BaselineInterval);
            }
            else if (now >= _nextProbe)
            {
                Interlocked.Exchange(ref _probeSamples, 0);
                Interlocked.Exchange(ref _probeLatencyTicks, 0);
                Volatile.Write(ref _probeStart, now);
                _probing = true;
            }
        }
        finally
        {
            _updateLock.Exit();
        }
    }

    // Latency within tolerance: newLimit = limit + √limit, smoothed (the headroom that lets the limit grow while latency
    // holds). Above it: newLimit = limit × max(tolerance × baseline / latency, 0.5), at once, and only calls admitted
    // after the cut are samples for the next window. Measured on the overload harness (tests/Resilience.Chaos/Overload,
    // 5 workers × 100 ms): with the headroom and the smoothing applied to cuts too, ours at 2× capacity had p50 486 ms
    // and p99 651 ms (unloaded: 101 ms) in a 3 s step; cutting at once, once per cohort, brings the limit to the knee
    // within a few windows without undershooting it.
    private void Update(int samples, long latencyTicks, int timeouts, int maxInFlight)
    {
        var limit = _exactLimit;
        var estimate = limit;
        var shortTicks = 0.0;
        if (samples > 0)
        {
            shortTicks = latencyTicks / (double)samples;
            Volatile.Write(ref _shortLatencyTicks, (long)shortTicks);

            // A window faster than the baseline proves the baseline too high (the first one may have been measured under load).
            _baselineTicks = _baselineTicks == 0 ? shortTicks : Math.Min(_baselineTicks, shortTicks);
            Volatile.Write(ref _baselineLatencyTicks, (long)_baselineTicks);

            var gradient = Math.Clamp(_options.Tolerance * _baselineTicks / shortTicks, AdaptiveConcurrencyConstants.MinGradient, 1.0);
            _lastGradient = gradient;

            // A window whose demand did not press the limit says nothing about a higher one (it may still say the limit is too high).
            if (gradient >= 1.0 && maxInFlight + Math.Sqrt(limit) < limit && timeouts == 0)
            {
                return;
            }

            estimate = gradient < 1.0 ? limit * gradient : limit + Math.Sqrt(limit);
        }

        if (timeouts > 0)
        {
            estimate = Math.Min(estimate, limit * AdaptiveConcurrencyConstants.TimeoutBackoff);
        }

        var next = estimate < limit ? estimate : (limit * (1 - _options.Smoothing)) + (estimate * _options.Smoothing);
        next = Math.Clamp(next, _minLimit, _maxLimit);
        if (next < limit)
        {
            Volatile.Write(ref _sampleFrom, long.MaxValue);
            _cutPending = true;
        }

        _exactLimit = next;
        var previous = _limit;
        var rounded = (int)next;
        if (rounded == previous)
        {
            return;
        }

        _limit = rounded;
        var inFlight = Volatile.Read(ref _inFlight);
        var baselineLatency = TimeSpan.FromTicks((long)_baselineTicks);
        var shortLatency = TimeSpan.FromTicks((long)shortTicks);
        AdaptiveConcurrencyLog.LimitChanged(_logger, Name, previous, rounded, shortLatency.TotalMilliseconds, baselineLatency.TotalMilliseconds, inFlight);
        if (_options.OnLimitChanged is { } onLimitChanged)
        {
            try
            {
                onLimitChanged(new ConcurrencyLimitChangedArguments(Name, previous, rounded, shortLatency, baselineLatency, inFlight));
            }
            catch (Exception e)
            {
                // The limit stands; the caller whose release ran the callback must not fail for it.
                AdaptiveConcurrencyLog.CallbackFailed(_logger, nameof(AdaptiveConcurrencyOptions.OnLimitChanged), Name, "the new limit stands", e);
            }
        }
    }
}

/// <summary>How a call through the limit ended: what it tells the limit (see <see cref="AdaptiveConcurrencyOptions.ClassifyFailure"/>).</summary>
public enum CallEnd
{
    /// <summary>It completed (with a result or a failure of the dependency): its latency is a sample.</summary>
    Completed,

    /// <summary>It timed out: no sample, and the window shrinks the limit.</summary>
    TimedOut,

    /// <summary>It says nothing about the dependency's load (the caller cancelled it, a layer inside refused it): a sample only when it had already run past the tolerance.</summary>
    Ignored,
}
