namespace ContentService.Providers;

/// <summary>No provider could serve the call (all failed, open or rate limited); the message is public and names no internals.</summary>
internal sealed class UpstreamUnavailableException(string dependency, string message, TimeSpan? retryAfter, Exception? lastError = null) : Exception(message, lastError)
{
    public const string Llm = "llm";
    public const string Cms = "cms";
    public const string Images = "images";

    /// <summary>Which dependency failed: <see cref="Llm"/> (every provider the router could use), <see cref="Cms"/> or <see cref="Images"/>.</summary>
    public string Dependency { get; } = dependency;

    /// <summary>When the earliest provider may be back (its breaker's remaining break or its Retry-After), if known.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>A provider rejected the request itself (4xx other than 408/429): trying another provider or again cannot help.</summary>
internal sealed class ProviderRejectedException(string message) : Exception(message);
