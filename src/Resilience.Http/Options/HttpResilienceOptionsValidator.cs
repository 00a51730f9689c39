using Microsoft.Extensions.Options;
using Resilience.AdaptiveConcurrency;
using Resilience.AdaptiveThrottling;

namespace Resilience.Http;

/// <summary>
/// Validates <see cref="HttpResilienceOptions"/>: the DataAnnotations ranges (source-generated, trimming-safe) and the
/// cross-field rules, all errors at once; the same checks run for options built in code and bound from configuration.
/// </summary>
/// <remarks>
/// A cross-field rule applies only to two values that were both set: a value that was not set is derived from the others
/// (see <see cref="HttpResilienceOptions"/>) and cannot contradict them.
/// </remarks>
internal sealed class HttpResilienceOptionsValidator : IValidateOptions<HttpResilienceOptions>
{
    public static readonly HttpResilienceOptionsValidator Instance = new();

    private static readonly HttpResilienceOptionsRangeValidator RangeValidator = new();

    public ValidateOptionsResult Validate(string? name, HttpResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        builder.AddResult(RangeValidator.Validate(name, options));

        if (options.AttemptTimeoutIsSet && options.TotalTimeoutIsSet && options.AttemptTimeout > options.TotalTimeout)
        {
            builder.AddError(
                $"AttemptTimeout ({options.AttemptTimeout:c}) must be at most TotalTimeout ({options.TotalTimeout:c}).",
                nameof(HttpResilienceOptions.AttemptTimeout));
        }

        if (options.BaseDelayIsSet && options.MaxDelayIsSet && options.BaseDelay > options.MaxDelay)
        {
            builder.AddError(
                $"BaseDelay ({options.BaseDelay:c}) must be at most MaxDelay ({options.MaxDelay:c}).",
                nameof(HttpResilienceOptions.BaseDelay));
        }

        if (options.MaxDelayIsSet && options.TotalTimeoutIsSet && options.MaxDelay >= options.TotalTimeout)
        {
            builder.AddError(
                $"MaxDelay ({options.MaxDelay:c}) must be less than TotalTimeout ({options.TotalTimeout:c}): a delay that long leaves no time for the next attempt.",
                nameof(HttpResilienceOptions.MaxDelay));
        }

        if (options.RetryBudget.DepositPerSuccess > options.RetryBudget.MaxTokens)
        {
            builder.AddError(
                $"RetryBudget:DepositPerSuccess ({options.RetryBudget.DepositPerSuccess}) must be at most RetryBudget:MaxTokens ({options.RetryBudget.MaxTokens}).",
                "RetryBudget:DepositPerSuccess");
        }

        AddCoreFailures(builder, "ConcurrencyLimit:Options", new AdaptiveConcurrencyOptionsValidator().Validate(null, options.ConcurrencyLimit.Options));
        AddCoreFailures(builder, "AdaptiveThrottling:Options", new AdaptiveThrottlingOptionsValidator().Validate(null, options.AdaptiveThrottling.Options));
        HttpRoutingValidator.Validate(options.Hedging, builder);
        return builder.Build();
    }

    /// <summary>Adds Core's failures ("Property {Key}: {Key} ({value}) {rule}") under <paramref name="section"/>, as the retry budget's read.</summary>
    private static void AddCoreFailures(ValidateOptionsResultBuilder builder, string section, ValidateOptionsResult result)
    {
        if (!result.Failed)
        {
            return;
        }

        foreach (var failure in result.Failures ?? [result.FailureMessage])
        {
            const string Marker = "Property ";
            var colon = failure.StartsWith(Marker, StringComparison.Ordinal) ? failure.IndexOf(": ", Marker.Length, StringComparison.Ordinal) : -1;
            var key = colon > 0 ? failure[Marker.Length..colon] : string.Empty;
            var rule = colon > 0 ? failure[(colon + 2)..] : failure;
            builder.AddError(section + ":" + rule, key.Length > 0 ? section + ":" + key : section);
        }
    }

    /// <summary>Validates options built in code, throwing the same error configuration binding would report at start-up.</summary>
    public static void ThrowIfInvalid(HttpResilienceOptions options, string? name)
    {
        var result = Instance.Validate(name, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(name ?? Microsoft.Extensions.Options.Options.DefaultName, typeof(HttpResilienceOptions), result.Failures);
        }
    }
}

/// <summary>The DataAnnotations part of the validation, generated at compile time.</summary>
[OptionsValidator]
internal sealed partial class HttpResilienceOptionsRangeValidator : IValidateOptions<HttpResilienceOptions>
{
}
