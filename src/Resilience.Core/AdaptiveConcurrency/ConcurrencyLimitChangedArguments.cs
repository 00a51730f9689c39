namespace Resilience.AdaptiveConcurrency;

/// <summary>What <see cref="AdaptiveConcurrencyOptions.OnLimitChanged"/> is told when a window moved the limit.</summary>
public readonly struct ConcurrencyLimitChangedArguments
{
    internal ConcurrencyLimitChangedArguments(string limiterName, int previousLimit, int limit, TimeSpan shortLatency, TimeSpan baselineLatency, int inFlight)
    {
        LimiterName = limiterName;
        PreviousLimit = previousLimit;
        Limit = limit;
        ShortLatency = shortLatency;
        BaselineLatency = baselineLatency;
        InFlight = inFlight;
    }

    /// <summary>Gets the limiter's name.</summary>
    public string LimiterName { get; }

    /// <summary>Gets the limit before the change.</summary>
    public int PreviousLimit { get; }

    /// <summary>Gets the new limit.</summary>
    public int Limit { get; }

    /// <summary>Gets the mean latency of the window that moved the limit.</summary>
    public TimeSpan ShortLatency { get; }

    /// <summary>Gets the no-load latency the window was compared with.</summary>
    public TimeSpan BaselineLatency { get; }

    /// <summary>Gets the calls in flight when the limit moved.</summary>
    public int InFlight { get; }
}
