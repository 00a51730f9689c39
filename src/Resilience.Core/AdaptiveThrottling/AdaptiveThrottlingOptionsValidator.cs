using Microsoft.Extensions.Options;

namespace Resilience.AdaptiveThrottling;

/// <summary>Validates <see cref="AdaptiveThrottlingOptions"/>; <see cref="AdaptiveThrottler"/> runs the same rules.</summary>
public sealed class AdaptiveThrottlingOptionsValidator : IValidateOptions<AdaptiveThrottlingOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AdaptiveThrottlingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        if (!(options.Multiplier >= 1 && options.Multiplier <= 100))
        {
            builder.AddError($"Multiplier ({options.Multiplier}) must be between 1 and 100.", nameof(options.Multiplier));
        }

        if (options.Window < TimeSpan.FromSeconds(1) || options.Window > TimeSpan.FromHours(1))
        {
            builder.AddError($"Window ({options.Window}) must be between 00:00:01 and 01:00:00.", nameof(options.Window));
        }

        if (options.MinimumThroughput < 0)
        {
            builder.AddError($"MinimumThroughput ({options.MinimumThroughput}) must not be negative.", nameof(options.MinimumThroughput));
        }

        return builder.Build();
    }

    internal static void ThrowIfInvalid(AdaptiveThrottlingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new AdaptiveThrottlingOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(AdaptiveThrottlingOptions), result.Failures);
        }
    }
}
