using Microsoft.Extensions.Options;

namespace Resilience.AdaptiveConcurrency;

/// <summary>Validates <see cref="AdaptiveConcurrencyOptions"/>; <see cref="AdaptiveConcurrencyLimiter"/> runs the same rules.</summary>
public sealed class AdaptiveConcurrencyOptionsValidator : IValidateOptions<AdaptiveConcurrencyOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AdaptiveConcurrencyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        if (options.MinLimit < 1)
        {
            builder.AddError($"MinLimit ({options.MinLimit}) must be at least 1.", nameof(options.MinLimit));
        }

        if (options.MaxLimit < options.MinLimit || options.MaxLimit > AdaptiveConcurrencyConstants.MaxLimitBound)
        {
            builder.AddError($"MaxLimit ({options.MaxLimit}) must be between MinLimit ({options.MinLimit}) and {AdaptiveConcurrencyConstants.MaxLimitBound}.", nameof(options.MaxLimit));
        }

        if (options.InitialLimit < options.MinLimit || options.InitialLimit > options.MaxLimit)
        {
            builder.AddError($"InitialLimit ({options.InitialLimit}) must be between MinLimit ({options.MinLimit}) and MaxLimit ({options.MaxLimit}).", nameof(options.InitialLimit));
        }

        if (options.QueueLimit < 0)
        {
            builder.AddError($"QueueLimit ({options.QueueLimit}) must not be negative.", nameof(options.QueueLimit));
        }

        if (options.MaxQueueWait < TimeSpan.Zero)
        {
            builder.AddError($"MaxQueueWait ({options.MaxQueueWait}) must not be negative.", nameof(options.MaxQueueWait));
        }

        if (!(options.Tolerance >= 1 && options.Tolerance <= 10))
        {
            builder.AddError($"Tolerance ({options.Tolerance}) must be between 1 and 10.", nameof(options.Tolerance));
        }

        if (!(options.Smoothing > 0 && options.Smoothing <= 1))
        {
            builder.AddError($"Smoothing ({options.Smoothing}) must be above 0 and at most 1.", nameof(options.Smoothing));
        }

        if (options.SampleWindow <= TimeSpan.Zero)
        {
            builder.AddError($"SampleWindow ({options.SampleWindow}) must be positive.", nameof(options.SampleWindow));
        }

        if (options.BaselineInterval <= TimeSpan.Zero)
        {
            builder.AddError($"BaselineInterval ({options.BaselineInterval}) must be positive.", nameof(options.BaselineInterval));
        }

        if (!(options.SheddableShare > 0 && options.SheddableShare <= 1))
        {
            builder.AddError($"SheddableShare ({options.SheddableShare}) must be above 0 and at most 1.", nameof(options.SheddableShare));
        }

        return builder.Build();
    }

    internal static void ThrowIfInvalid(AdaptiveConcurrencyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new AdaptiveConcurrencyOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(AdaptiveConcurrencyOptions), result.Failures);
        }
    }
}
