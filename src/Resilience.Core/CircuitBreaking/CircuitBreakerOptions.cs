using System.ComponentModel.DataAnnotations;

namespace Resilience.CircuitBreaking;

/// <summary>Configures a <see cref="CircuitBreaker"/>.</summary>
/// <remarks>
/// Bindable from configuration (keys are the property names; durations as <c>"00:01:00"</c>):
/// <c>Mode</c>, <c>FailureThreshold</c>, <c>BreakDuration</c>, <c>FailureRatio</c>, <c>SamplingDuration</c>,
/// <c>SamplingBuckets</c>, <c>MinimumThroughput</c>, <c>SlowCallThreshold</c>, <c>PermittedProbes</c>,
/// <c>BreakDurationFactor</c>, <c>MaxBreakDuration</c>, <c>ProbeTimeout</c>, <c>ClusterWide</c>. The delegates (<see cref="ShouldHandle"/>,
/// <see cref="OnStateChanged"/>) are set in code. A breaker copies the values when it is created; later changes to
/// this object do not affect it. Invalid values make the breaker's constructor throw
/// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> listing every error.
/// </remarks>
// The TimeSpan ranges are read by the source-generated validator at compile time, never through reflection.
#pragma warning disable IL2026
public sealed class CircuitBreakerOptions
{
    /// <summary>Initializes a new instance of the <see cref="CircuitBreakerOptions"/> class with the defaults.</summary>
    public CircuitBreakerOptions()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CircuitBreakerOptions"/> class with every setting of <paramref name="other"/>.</summary>
    /// <param name="other">The options to copy (e.g. shared defaults an adapter adjusts).</param>
    public CircuitBreakerOptions(CircuitBreakerOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Mode = other.Mode;
        FailureThreshold = other.FailureThreshold;
        BreakDuration = other.BreakDuration;
        FailureRatio = other.FailureRatio;
        SamplingDuration = other.SamplingDuration;
        SamplingBuckets = other.SamplingBuckets;
        MinimumThroughput = other.MinimumThroughput;
        SlowCallThreshold = other.SlowCallThreshold;
        PermittedProbes = other.PermittedProbes;
        BreakDurationFactor = other.BreakDurationFactor;
        MaxBreakDuration = other.MaxBreakDuration;
        ProbeTimeout = other.ProbeTimeout;
        ClusterWide = other.ClusterWide;
        ShouldHandle = other.ShouldHandle;
        OnStateChanged = other.OnStateChanged;
        OnOpened = other.OnOpened;
        OnClosed = other.OnClosed;
        OnHalfOpened = other.OnHalfOpened;
    }

    /// <summary>Gets or sets how the closed circuit decides to open.</summary>
    /// <value>Default: <see cref="CircuitBreakerMode.ConsecutiveFailures"/>.</value>
    public CircuitBreakerMode Mode { get; set; } = CircuitBreakerConstants.DefaultMode;

    /// <summary>Gets or sets how many failures in a row open the circuit (consecutive mode).</summary>
    /// <value>Default: 5. Range: 1 or more.</value>
    [Range(1, int.MaxValue)]
    public int FailureThreshold { get; set; } = CircuitBreakerConstants.DefaultFailureThreshold;

    /// <summary>Gets or sets how long the circuit stays open before it admits probe calls.</summary>
    /// <value>Default: 60 seconds. Range: 1 ms to 1 day.</value>
    [Range(typeof(TimeSpan), CircuitBreakerConstants.MinDuration, CircuitBreakerConstants.MaxDuration)]
    public TimeSpan BreakDuration { get; set; } = CircuitBreakerConstants.DefaultBreakDuration;

    /// <summary>Gets or sets the share of failed calls in the window that opens the circuit (ratio mode).</summary>
    /// <value>Default: 0.5. Range: 0.001 to 1.</value>
    [Range(CircuitBreakerConstants.MinFailureRatio, 1.0)]
    public double FailureRatio { get; set; } = CircuitBreakerConstants.DefaultFailureRatio;

    /// <summary>Gets or sets the length of the sliding window over which the failure ratio is computed (ratio mode).</summary>
    /// <value>Default: 30 seconds. Range: 100 ms to 1 day.</value>
    [Range(typeof(TimeSpan), CircuitBreakerConstants.MinSamplingDuration, CircuitBreakerConstants.MaxDuration)]
    public TimeSpan SamplingDuration { get; set; } = CircuitBreakerConstants.DefaultSamplingDuration;

    /// <summary>Gets or sets into how many buckets the window is divided; the window slides one bucket at a time (ratio mode).</summary>
    /// <value>Default: 10. Range: 1 to 1000; each bucket must span at least 10 ms.</value>
    [Range(1, CircuitBreakerConstants.MaxSamplingBuckets)]
    public int SamplingBuckets { get; set; } = CircuitBreakerConstants.DefaultSamplingBuckets;

    /// <summary>Gets or sets how many calls the window must hold before the ratio can open the circuit (ratio mode).</summary>
    /// <value>Default: 10. Range: 1 or more.</value>
    [Range(1, int.MaxValue)]
    public int MinimumThroughput { get; set; } = CircuitBreakerConstants.DefaultMinimumThroughput;

    /// <summary>Gets or sets the duration above which a successful call still counts as a failure.</summary>
    /// <value>Default: <see langword="null"/> (slow calls are not failures). When set: more than zero.</value>
    public TimeSpan? SlowCallThreshold { get; set; }

    /// <summary>Gets or sets how many concurrent probe calls a half-open circuit admits; all must succeed to close it.</summary>
    /// <value>Default: 1. Range: 1 to 1000.</value>
    [Range(1, CircuitBreakerConstants.MaxPermittedProbes)]
    public int PermittedProbes { get; set; } = CircuitBreakerConstants.DefaultPermittedProbes;

    /// <summary>Gets or sets the factor by which the break grows each time a probe fails; 1 keeps it constant.</summary>
    /// <value>Default: 1. Range: 1 to 100.</value>
    /// <remarks>The break returns to <see cref="BreakDuration"/> once the circuit closes.</remarks>
    [Range(1.0, CircuitBreakerConstants.MaxBreakDurationFactor)]
    public double BreakDurationFactor { get; set; } = CircuitBreakerConstants.DefaultBreakDurationFactor;

    /// <summary>Gets or sets the cap of a growing break.</summary>
    /// <value>Default: 10 minutes. Range: 1 ms to 1 day; at least <see cref="BreakDuration"/> when <see cref="BreakDurationFactor"/> is above 1.</value>
    [Range(typeof(TimeSpan), CircuitBreakerConstants.MinDuration, CircuitBreakerConstants.MaxDuration)]
    public TimeSpan MaxBreakDuration { get; set; } = CircuitBreakerConstants.DefaultMaxBreakDuration;

    /// <summary>Gets or sets how long a half-open circuit waits for its probes to report before it gives up on them and admits new ones.</summary>
    /// <value>Default: 10 seconds. Range: 1 ms to 1 day.</value>
    /// <remarks>
    /// A probe that never reports (its permit lost, or the call hung) would otherwise keep the circuit refusing calls.
    /// An abandoned probe is logged (event 1005) and counted (<c>resilience.circuit_breaker.abandoned_probes</c>); its late
    /// result is ignored. While probes are in flight, refusals report the time until this timeout as the remaining break.
    /// Set it above the time a healthy call may take (for example the attempt timeout).
    /// </remarks>
    [Range(typeof(TimeSpan), CircuitBreakerConstants.MinDuration, CircuitBreakerConstants.MaxDuration)]
    public TimeSpan ProbeTimeout { get; set; } = CircuitBreakerConstants.DefaultProbeTimeout;

    /// <summary>Gets or sets whether the breaker is shared by every instance of the cluster (configuration key <c>ClusterWide</c>).</summary>
    /// <value>Default: <see langword="false"/>.</value>
    /// <remarks>
    /// A breaker of a <see cref="CircuitBreakerRegistry"/> marked so is shared with the container's
    /// <see cref="Resilience.Cluster.ClusterCoordinator"/> (e.g. <c>AddNpgsqlCluster</c>): it still opens on its own counts here, and
    /// opens on every instance when a quorum of live instances saw it open; in half-open one instance probes for all.
    /// Without a coordinator in the container the registry refuses to create it. A breaker created by hand is shared with
    /// <see cref="Resilience.Cluster.ClusterCoordinator.Share"/>.
    /// </remarks>
    public bool ClusterWide { get; set; }

    /// <summary>Gets or sets which exceptions count as failures; exceptions it rejects count as successes.</summary>
    /// <value>Default: <see langword="null"/> (every exception counts).</value>
    /// <remarks>
    /// Cancellation requested by the caller's token never counts, whatever this returns. Results are judged by the
    /// <c>shouldHandleResult</c> argument of the generic <c>Execute</c> overloads, so no result is ever boxed.
    /// </remarks>
    public Func<Exception, bool>? ShouldHandle { get; set; }

    /// <summary>Names the settings in which <paramref name="other"/> differs from these options (delegates compare by their method).</summary>
    internal List<string> DifferencesFrom(CircuitBreakerOptions other)
    {
        var differences = new List<string>();
        Check(Mode != other.Mode, nameof(Mode));
        Check(FailureThreshold != other.FailureThreshold, nameof(FailureThreshold));
        Check(BreakDuration != other.BreakDuration, nameof(BreakDuration));
        Check(FailureRatio != other.FailureRatio, nameof(FailureRatio));
        Check(SamplingDuration != other.SamplingDuration, nameof(SamplingDuration));
        Check(SamplingBuckets != other.SamplingBuckets, nameof(SamplingBuckets));
        Check(MinimumThroughput != other.MinimumThroughput, nameof(MinimumThroughput));
        Check(SlowCallThreshold != other.SlowCallThreshold, nameof(SlowCallThreshold));
        Check(PermittedProbes != other.PermittedProbes, nameof(PermittedProbes));
        Check(BreakDurationFactor != other.BreakDurationFactor, nameof(BreakDurationFactor));
        Check(MaxBreakDuration != other.MaxBreakDuration, nameof(MaxBreakDuration));
        Check(ProbeTimeout != other.ProbeTimeout, nameof(ProbeTimeout));
        Check(ClusterWide != other.ClusterWide, nameof(ClusterWide));
        Check(ShouldHandle?.Method != other.ShouldHandle?.Method, nameof(ShouldHandle));
        Check(OnStateChanged?.Method != other.OnStateChanged?.Method, nameof(OnStateChanged));
        Check(OnOpened?.Method != other.OnOpened?.Method, nameof(OnOpened));
        Check(OnClosed?.Method != other.OnClosed?.Method, nameof(OnClosed));
        Check(OnHalfOpened?.Method != other.OnHalfOpened?.Method, nameof(OnHalfOpened));
        return differences;

        void Check(bool differs, string key)
        {
            if (differs)
            {
                differences.Add(key);
            }
        }
    }

    /// <summary>Gets or sets a callback raised after every state change, outside the breaker's lock.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    /// <remarks>An exception thrown by the callback is logged and does not affect the call that caused the change.</remarks>
    public Action<CircuitStateChange>? OnStateChanged { get; set; }

    /// <summary>Gets or sets a callback raised when the circuit opens (from closed, or again after a failed probe), after <see cref="OnStateChanged"/>.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public Action<CircuitStateChange>? OnOpened { get; set; }

    /// <summary>Gets or sets a callback raised when the circuit closes (its probes succeeded, or it was reset), after <see cref="OnStateChanged"/>.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public Action<CircuitStateChange>? OnClosed { get; set; }

    /// <summary>Gets or sets a callback raised when the circuit turns half-open to admit its probes, after <see cref="OnStateChanged"/>.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public Action<CircuitStateChange>? OnHalfOpened { get; set; }

    /// <summary>The callbacks as one: <see cref="OnStateChanged"/>, then the one for the state entered; <see langword="null"/> when none is set.</summary>
    internal Action<CircuitStateChange>? CombinedCallbacks()
    {
        var any = OnStateChanged;
        var opened = OnOpened;
        var closed = OnClosed;
        var halfOpened = OnHalfOpened;
        if (opened is null && closed is null && halfOpened is null)
        {
            return any;
        }

        return change =>
        {
            any?.Invoke(change);
            var specific = change.To switch
            {
                CircuitState.Open => opened,
                CircuitState.Closed => closed,
                CircuitState.HalfOpen => halfOpened,
                _ => null,
            };
            specific?.Invoke(change);
        };
    }
}
#pragma warning restore IL2026
