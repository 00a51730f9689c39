namespace Resilience.Hedging;

/// <summary>What <see cref="HedgingOptions.DelayGenerator"/> is told about the hedged attempt it gives the delay of.</summary>
public readonly struct HedgingDelayArguments
{
    internal HedgingDelayArguments(int attemptNumber) => AttemptNumber = attemptNumber;

    /// <summary>Gets the number of the hedged attempt about to wait: 1 for the first hedge (the primary attempt is 0).</summary>
    public int AttemptNumber { get; }
}
