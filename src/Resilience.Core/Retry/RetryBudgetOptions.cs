using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Resilience.Retry;

/// <summary>Sizes a <see cref="RetryBudget"/>: how much retry load a dependency may receive; bindable from configuration.</summary>
public sealed class RetryBudgetOptions
{
    /// <summary>Gets or sets the most tokens the bucket holds (the largest burst of retries it allows); it starts full.</summary>
    /// <value>Defaults to 10; greater than 0, at most 1,000,000; at least <see cref="DepositPerSuccess"/>.</value>
    [Range(0.0, RetryConstants.MaxTokensLimit, MinimumIsExclusive = true)]
    public double MaxTokens { get; set; } = RetryConstants.DefaultMaxTokens;

    /// <summary>Gets or sets the fraction of a token each successful call deposits; each retry withdraws one token.</summary>
    /// <value>Defaults to 0.1, so retries add at most about 10% load on top of the successful calls; 0.000001 to 1,000.</value>
    [Range(RetryConstants.MinDeposit, RetryConstants.MaxDeposit)]
    public double DepositPerSuccess { get; set; } = RetryConstants.DefaultDepositPerSuccess;

    /// <summary>Gets or sets how many retries per second are allowed even when the bucket is empty.</summary>
    /// <value>Defaults to 1, so a dependency with little traffic can still retry; 0 disables the floor.</value>
    [Range(0, RetryConstants.MaxMinRetriesPerSecond)]
    public int MinRetriesPerSecond { get; set; } = RetryConstants.DefaultMinRetriesPerSecond;
}

/// <summary>Validates <see cref="RetryBudgetOptions"/>: each setting's range and that a deposit fits in the bucket.</summary>
public sealed class RetryBudgetOptionsValidator : IValidateOptions<RetryBudgetOptions>
{
    private static readonly RetryBudgetOptionsDataAnnotationsValidator DataAnnotations = new();

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RetryBudgetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        builder.AddResult(DataAnnotations.Validate(name, options));
        if (options.DepositPerSuccess > options.MaxTokens)
        {
            builder.AddError(
                $"DepositPerSuccess ({options.DepositPerSuccess}) must not exceed MaxTokens ({options.MaxTokens}).",
                nameof(RetryBudgetOptions.DepositPerSuccess));
        }

        return builder.Build();
    }

    internal static void ThrowIfInvalid(RetryBudgetOptions options)
    {
        var result = new RetryBudgetOptionsValidator().Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(RetryBudgetOptions), result.Failures);
        }
    }
}

/// <summary>Source-generated validation of the DataAnnotations on <see cref="RetryBudgetOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class RetryBudgetOptionsDataAnnotationsValidator : IValidateOptions<RetryBudgetOptions>
{
}
