namespace Resilience.Timeouts;

/// <summary>Describes a timeout that fired: which one, its limit, and the call it cut.</summary>
public readonly struct TimeoutArguments
{
    internal TimeoutArguments(TimeoutKind kind, TimeSpan timeout, ResilienceContext context)
    {
        Kind = kind;
        Timeout = timeout;
        Context = context;
    }

    /// <summary>Gets which timeout fired.</summary>
    public TimeoutKind Kind { get; }

    /// <summary>Gets the limit that was reached.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Gets the call's context: its operation key and properties.</summary>
    public ResilienceContext Context { get; }
}
