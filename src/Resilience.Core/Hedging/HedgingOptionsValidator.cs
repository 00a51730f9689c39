using Microsoft.Extensions.Options;

namespace Resilience.Hedging;

/// <summary>Validates <see cref="HedgingOptions"/>: 1 to 10 hedged attempts, a delay from zero to one day (or infinite).</summary>
/// <remarks>Register it for configuration-bound options; <c>AddHedging</c> runs the same rules.</remarks>
public sealed class HedgingOptionsValidator : IValidateOptions<HedgingOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, HedgingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        if (options.MaxHedgedAttempts is < 1 or > HedgingConstants.MaxHedgedAttemptsLimit)
        {
            builder.AddError(
                $"MaxHedgedAttempts ({options.MaxHedgedAttempts}) must be between 1 and {HedgingConstants.MaxHedgedAttemptsLimit}.",
                nameof(HedgingOptions.MaxHedgedAttempts));
        }

        if (!IsValidDelay(options.Delay))
        {
            builder.AddError(
                $"Delay ({options.Delay}) must be between zero and {HedgingConstants.MaxDelay}, or infinite (-00:00:00.001).",
                nameof(HedgingOptions.Delay));
        }

        return builder.Build();
    }

    /// <summary>Whether <paramref name="delay"/> is zero to one day, or infinite: also checked on each generated delay.</summary>
    internal static bool IsValidDelay(TimeSpan delay) =>
        delay == Timeout.InfiniteTimeSpan || (delay >= TimeSpan.Zero && delay <= HedgingConstants.MaxDelay);

    internal static void ThrowIfInvalid(HedgingOptions options)
    {
        var result = new HedgingOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, options.GetType(), result.Failures);
        }
    }
}
