namespace Resilience.CircuitBreaking;

/// <content>
/// The breaker's tunables and how new options apply to a live breaker (configuration reload) without resetting it.
/// </content>
public sealed partial class CircuitBreaker
{
    /// <summary>Applies new options to this breaker without resetting its state.</summary>
    /// <param name="options">The options; validated here, copied, and not observed afterwards.</param>
    /// <remarks>
    /// <para>The state and the counts survive; each setting takes effect at its next use:</para>
    /// <list type="bullet">
    /// <item><c>FailureThreshold</c>, <c>FailureRatio</c>, <c>MinimumThroughput</c>, <c>ShouldHandle</c>: at the next
    /// failure, against the failures already counted (a lower threshold already reached trips on the next failure).</item>
    /// <item><c>BreakDuration</c>: for the next break from closed. A break in progress keeps its end; a failed probe grows
    /// the current break with the new <c>BreakDurationFactor</c>, capped by the new <c>MaxBreakDuration</c>.</item>
    /// <item><c>PermittedProbes</c>: from the next half-open period; <c>ProbeTimeout</c>: from the next probe.</item>
    /// <item><c>SlowCallThreshold</c>: for calls admitted after the update.</item>
    /// <item><c>Mode</c>, <c>SamplingDuration</c>, <c>SamplingBuckets</c>: the failure count restarts empty in the new shape
    /// (the old window's samples do not fit it); the state is kept.</item>
    /// <item><c>OnStateChanged</c>: from the next transition.</item>
    /// </list>
    /// </remarks>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid; the breaker keeps its options.</exception>
    public void UpdateOptions(CircuitBreakerOptions options)
    {
        CircuitBreakerOptionsValidator.ThrowIfInvalid(Name, options);
        lock (_lock)
        {
            ApplyLocked(options);
        }
    }

    private void ApplyLocked(CircuitBreakerOptions options)
    {
        var previous = Settings;
        Settings = new CircuitBreakerOptions(options);
        _failureThreshold = options.FailureThreshold;
        _failureRatio = options.FailureRatio;
        _minimumThroughput = options.MinimumThroughput;
        _probeTimeout = options.ProbeTimeout;
        _shouldHandle = options.ShouldHandle;
        _onStateChanged = options.CombinedCallbacks();
        _slowCallTicks = options.SlowCallThreshold is { } slow ? ToTimestampTicks(slow) : 0;
        _baseBreak = options.BreakDuration;
        // Stryker disable once Equality,Conditional : _maxBreak is read only when BreakDurationFactor > 1, so at a factor of 1 either value is unused
        _maxBreak = options.BreakDurationFactor > 1.0 ? options.MaxBreakDuration : options.BreakDuration;
        _breakFactor = options.BreakDurationFactor;
        if (_state == StateClosed)
        {
            _currentBreak = _baseBreak;
        }

        // Stryker disable once Block : every half-open period starts with ClearProbesLocked, which reads PermittedProbes from Settings again
        if (_state != StateHalfOpen)
        {
            // Probes are counted only while half-open; a half-open period adopts the new count when the next one starts.
            _permittedProbes = options.PermittedProbes;
        }

        if (previous is null
            || previous.Mode != options.Mode
            || previous.SamplingDuration != options.SamplingDuration
            || previous.SamplingBuckets != options.SamplingBuckets)
        {
            Mode = options.Mode;
            _ring = options.Mode == CircuitBreakerMode.FailureRatio
                ? new HealthRing(options.SamplingBuckets, ToTimestampTicks(options.SamplingDuration / options.SamplingBuckets))
                : null;
            Volatile.Write(ref _consecutiveFailures, 0);
        }
    }
}
