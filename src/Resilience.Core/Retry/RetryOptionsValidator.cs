using Microsoft.Extensions.Options;

namespace Resilience.Retry;

/// <summary>Validates <see cref="RetryOptions"/>: the range rules of each setting and the rules across settings.</summary>
/// <remarks>Register it for configuration-bound options; strategies built in code run the same rules.</remarks>
public sealed class RetryOptionsValidator : IValidateOptions<RetryOptions>
{
    private static readonly RetryOptionsDataAnnotationsValidator DataAnnotations = new();

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        builder.AddResult(DataAnnotations.Validate(name, options));
        AddDelayRangeError(builder, options.BaseDelay, nameof(RetryOptions.BaseDelay));
        AddDelayRangeError(builder, options.MaxDelay, nameof(RetryOptions.MaxDelay));
        if (options.BaseDelay > options.MaxDelay)
        {
            builder.AddError(
                $"BaseDelay ({options.BaseDelay}) must not exceed MaxDelay ({options.MaxDelay}).",
                nameof(RetryOptions.BaseDelay));
        }

        if (options.Jitter == RetryJitter.Decorrelated && options.Backoff != RetryBackoff.Exponential)
        {
            builder.AddError(
                $"Jitter 'Decorrelated' requires Backoff 'Exponential' (was '{options.Backoff}'); use Jitter 'Full' or 'None' with other backoffs.",
                nameof(RetryOptions.Jitter));
        }

        return builder.Build();
    }

    private static void AddDelayRangeError(ValidateOptionsResultBuilder builder, TimeSpan value, string name)
    {
        if (value < TimeSpan.Zero || value > RetryConstants.MaxDelayLimit)
        {
            builder.AddError($"{name} ({value}) must be between {TimeSpan.Zero} and {RetryConstants.MaxDelayLimit}.", name);
        }
    }

    internal static void ThrowIfInvalid(RetryOptions options)
    {
        var result = new RetryOptionsValidator().Validate(options.Name, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(options.Name ?? Options.DefaultName, options.GetType(), result.Failures);
        }
    }
}

/// <summary>Source-generated validation of the DataAnnotations on <see cref="RetryOptions"/> (trimming-safe).</summary>
[OptionsValidator]
internal sealed partial class RetryOptionsDataAnnotationsValidator : IValidateOptions<RetryOptions>
{
}
