namespace Resilience.AdaptiveThrottling;

/// <summary>What <see cref="AdaptiveThrottlingOptions.OnThrottled"/> is told when a request was refused locally.</summary>
public readonly struct ThrottledArguments
{
    internal ThrottledArguments(string throttlerName, double probability, ResilienceContext context)
    {
        ThrottlerName = throttlerName;
        Probability = probability;
        Context = context;
    }

    /// <summary>Gets the throttler's name.</summary>
    public string ThrottlerName { get; }

    /// <summary>Gets the probability of refusal in force.</summary>
    public double Probability { get; }

    /// <summary>Gets the call's context.</summary>
    public ResilienceContext Context { get; }
}
