namespace Resilience.Fallback;

/// <summary>Where a <see cref="FallbackValue{TValue}"/> came from.</summary>
public enum FallbackSource
{
    /// <summary>The live call succeeded; the value is fresh.</summary>
    Live = 0,

    /// <summary>The call failed; the last good value of the key was served (stale).</summary>
    Cache = 1,

    /// <summary>The call failed and nothing usable was cached; the static fallback was served.</summary>
    Static = 2,
}
