namespace Resilience.Fallback;

/// <summary>A value with its provenance: live, the last good value (stale, with its age), or a static fallback.</summary>
/// <typeparam name="TValue">The type of the value.</typeparam>
public readonly struct FallbackValue<TValue>
{
    internal FallbackValue(TValue value, FallbackSource source, TimeSpan age, DateTimeOffset storedAt)
    {
        Value = value;
        Source = source;
        Age = age;
        StoredAt = storedAt;
    }

    /// <summary>Gets the value.</summary>
    public TValue Value { get; }

    /// <summary>Gets where the value came from.</summary>
    public FallbackSource Source { get; }

    /// <summary>Gets a value indicating whether the value is a cached one served in place of a failed call.</summary>
    public bool IsStale => Source == FallbackSource.Cache;

    /// <summary>Gets a value indicating whether the value replaces a failed call (cached or static).</summary>
    public bool IsFallback => Source != FallbackSource.Live;

    /// <summary>Gets how old the value is: zero for live and static values.</summary>
    public TimeSpan Age { get; }

    /// <summary>Gets when the value was obtained: stored (cached values) or produced (live and static values).</summary>
    public DateTimeOffset StoredAt { get; }
}
