namespace Resilience.Hedging;

/// <summary>Describes a hedged attempt as it starts: its number, the delay that preceded it, and its context.</summary>
public readonly struct HedgingArguments
{
    internal HedgingArguments(int hedgedAttempt, TimeSpan delay, ResilienceContext context)
    {
        HedgedAttempt = hedgedAttempt;
        Delay = delay;
        Context = context;
    }

    /// <summary>Gets the hedged attempt's number: 1 for the first copy.</summary>
    public int HedgedAttempt { get; }

    /// <summary>Gets how long the round waited before starting it; <see cref="TimeSpan.Zero"/> when an attempt failed and it started at once.</summary>
    public TimeSpan Delay { get; }

    /// <summary>Gets the hedged attempt's own context (<see cref="ResilienceContext.HedgedAttempt"/> is its number).</summary>
    public ResilienceContext Context { get; }
}
