using Microsoft.Extensions.Options;
using Resilience.DependencyInjection;

namespace Resilience.CircuitBreaking;

/// <summary>Checks the DataAnnotations ranges of <see cref="CircuitBreakerOptions"/> (source-generated, trimming-safe).</summary>
[OptionsValidator]
internal sealed partial class CircuitBreakerOptionsRangeValidator : IValidateOptions<CircuitBreakerOptions>
{
}

/// <summary>
/// Validates <see cref="CircuitBreakerOptions"/>: ranges plus the cross-field rules; every message names the
/// configuration key (<c>{prefix}:{Property}</c>) and the rule. Used both by DI (at start-up) and by the breaker's constructor.
/// </summary>
/// <remarks>Like every options validator of this library it is public, so an adapter can compose it into its own validation.</remarks>
public sealed class CircuitBreakerOptionsValidator : IValidateOptions<CircuitBreakerOptions>
{
    private static readonly CircuitBreakerOptionsRangeValidator Ranges = new();
    private readonly string? _name;
    private readonly string _keyPrefix;

    /// <summary>Initializes a new instance of the <see cref="CircuitBreakerOptionsValidator"/> class that validates options of every name.</summary>
    public CircuitBreakerOptionsValidator()
        : this(null, "CircuitBreaker")
    {
    }

    /// <param name="name">The options name this instance validates; <see langword="null"/> for every name.</param>
    /// <param name="keyPrefix">The configuration path the keys are reported under.</param>
    internal CircuitBreakerOptionsValidator(string? name, string keyPrefix)
    {
        _name = name;
        _keyPrefix = keyPrefix;
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, CircuitBreakerOptions options)
    {
        if (_name is not null && !string.Equals(_name, name, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        return Collect(options, _keyPrefix).ToResult();
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every error when <paramref name="options"/> is invalid.</summary>
    internal static void ThrowIfInvalid(string name, CircuitBreakerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Collect(options, "CircuitBreakers:" + name).ThrowIfAny(name, typeof(CircuitBreakerOptions));
    }

    /// <summary>Checks <paramref name="options"/>, reporting each broken rule as <c>{keyPrefix}:{Key}: {rule}</c>.</summary>
    internal static OptionsErrors Collect(CircuitBreakerOptions options, string keyPrefix)
    {
        var errors = new OptionsErrors();
        errors.AddResult(keyPrefix, OptionsErrors.Run(Ranges, options));

        if (!Enum.IsDefined(options.Mode))
        {
            errors.Add(keyPrefix, "Mode", $"must be ConsecutiveFailures or FailureRatio (was '{options.Mode}').");
        }

        if (options.SlowCallThreshold is { } slow && slow <= TimeSpan.Zero)
        {
            errors.Add(keyPrefix, "SlowCallThreshold", $"must be more than zero when set (was {slow}).");
        }

        if (options.BreakDurationFactor > 1.0 && options.MaxBreakDuration < options.BreakDuration)
        {
            errors.Add(keyPrefix, "MaxBreakDuration", $"must be at least BreakDuration ({options.BreakDuration}) when BreakDurationFactor is above 1 (was {options.MaxBreakDuration}).");
        }

        if (options.Mode == CircuitBreakerMode.FailureRatio && options.SamplingBuckets > 0
            && options.SamplingDuration / options.SamplingBuckets < CircuitBreakerConstants.MinBucketDuration)
        {
            errors.Add(keyPrefix, "SamplingBuckets", $"SamplingDuration / SamplingBuckets must be at least {CircuitBreakerConstants.MinBucketDuration.TotalMilliseconds} ms (was {options.SamplingDuration} / {options.SamplingBuckets}).");
        }

        return errors;
    }
}
