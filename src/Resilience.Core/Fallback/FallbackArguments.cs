namespace Resilience.Fallback;

/// <summary>Describes a fallback value served in place of a failed call: which key, from where, how old, and why.</summary>
public readonly struct FallbackArguments
{
    internal FallbackArguments(string key, FallbackSource source, TimeSpan age, Exception? exception, ResilienceContext context)
    {
        Key = key;
        Source = source;
        Age = age;
        Exception = exception;
        Context = context;
    }

    /// <summary>Gets the fallback key the value was served for.</summary>
    public string Key { get; }

    /// <summary>Gets where the value came from: the cache (stale) or the static fallback.</summary>
    public FallbackSource Source { get; }

    /// <summary>Gets the served value's age; zero for a static value.</summary>
    public TimeSpan Age { get; }

    /// <summary>Gets the failure the value replaced; <see langword="null"/> when a failed result was replaced.</summary>
    public Exception? Exception { get; }

    /// <summary>Gets the call's context.</summary>
    public ResilienceContext Context { get; }
}
