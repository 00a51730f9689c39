using Microsoft.Extensions.Options;

namespace Resilience.FaultInjection;

/// <summary>Validates <see cref="FaultInjectionOptions"/>: every rate between 0 and 1, a latency that is not negative, a result for a result rate.</summary>
/// <remarks>Register it for configuration-bound options; <see cref="FaultInjector"/> runs the same rules.</remarks>
public sealed class FaultInjectionOptionsValidator : IValidateOptions<FaultInjectionOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, FaultInjectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        AddRateError(builder, options.ExceptionRate, nameof(FaultInjectionOptions.ExceptionRate));
        AddRateError(builder, options.LatencyRate, nameof(FaultInjectionOptions.LatencyRate));
        AddRateError(builder, options.InjectedResultRate, nameof(FaultInjectionOptions<object>.ResultRate));
        if (options.Latency < TimeSpan.Zero)
        {
            builder.AddError($"Latency ({options.Latency}) must not be negative.", nameof(FaultInjectionOptions.Latency));
        }

        if (options.InjectedResultRate > 0 && options.InjectedResult is null)
        {
            builder.AddError("Result is required when ResultRate is above 0.", nameof(FaultInjectionOptions<object>.Result));
        }

        return builder.Build();
    }

    internal static void ThrowIfInvalid(FaultInjectionOptions options)
    {
        var result = new FaultInjectionOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, options.GetType(), result.Failures);
        }
    }

    private static void AddRateError(ValidateOptionsResultBuilder builder, double rate, string name)
    {
        if (!(rate >= 0 && rate <= 1))
        {
            builder.AddError($"{name} ({rate}) must be between 0 and 1.", name);
        }
    }
}
