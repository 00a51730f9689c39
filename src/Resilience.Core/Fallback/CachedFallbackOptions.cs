using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Resilience.Fallback;

/// <summary>Configures a <see cref="CachedFallback{TKey, TValue}"/>.</summary>
/// <remarks>Bindable from configuration: keys <c>MaxEntries</c> and <c>MaxStaleness</c> (as <c>"00:05:00"</c>).</remarks>
// The TimeSpan range is read by the source-generated validator at compile time, never through reflection.
#pragma warning disable IL2026
public sealed class CachedFallbackOptions
{
    /// <summary>Gets or sets how many keys are cached; beyond it the least recently used keys are evicted (CLOCK).</summary>
    /// <value>Default: 1024. Range: 1 to 10,000,000.</value>
    [Range(1, CachedFallbackConstants.MaxMaxEntries)]
    public int MaxEntries { get; set; } = CachedFallbackConstants.DefaultMaxEntries;

    /// <summary>Gets or sets the oldest a cached value may be to be served; older values let the original failure surface.</summary>
    /// <value>Default: 5 minutes. Range: 1 ms to 30 days.</value>
    [Range(typeof(TimeSpan), CachedFallbackConstants.MinStaleness, CachedFallbackConstants.MaxStaleness)]
    public TimeSpan MaxStaleness { get; set; } = CachedFallbackConstants.DefaultMaxStaleness;

    /// <summary>Gets or sets which exceptions a fallback may replace.</summary>
    /// <value>Default: <see langword="null"/> (every exception). A refusal (<see cref="ExecutionRejectedException"/>, e.g. an open circuit) is always replaced; the caller's cancellation never is.</value>
    public Func<Exception, bool>? ShouldHandle { get; set; }

    /// <summary>Gets or sets a callback invoked when the pipeline serves a fallback value in place of a failed call.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public Action<FallbackArguments>? OnFallback { get; set; }
}
#pragma warning restore IL2026

/// <summary>Checks the ranges of <see cref="CachedFallbackOptions"/> (source-generated, trimming-safe).</summary>
[OptionsValidator]
public sealed partial class CachedFallbackOptionsValidator : IValidateOptions<CachedFallbackOptions>
{
    internal static void ThrowIfInvalid(string name, CachedFallbackOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new CachedFallbackOptionsValidator().Validate("Fallbacks:" + name, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(name, typeof(CachedFallbackOptions), result.Failures);
        }
    }
}
