using Microsoft.Extensions.Options;

namespace Resilience.Timeouts;

/// <summary>A per-attempt or total timeout; bindable from configuration.</summary>
public sealed class TimeoutOptions
{
    /// <summary>Gets or sets the name reported in metrics, logs and <see cref="OperationTimeoutException"/>.</summary>
    /// <value>Defaults to <see langword="null"/>, reported as <c>timeout</c>.</value>
    public string? Name { get; set; }

    /// <summary>Gets or sets how long the operation may run.</summary>
    /// <value>Defaults to 30 s; 1 ms to one day.</value>
    public TimeSpan Timeout { get; set; } = TimeoutConstants.DefaultTimeout;

    /// <summary>Gets or sets which timeout this is, as reported when it fires.</summary>
    /// <value>Defaults to <see cref="TimeoutKind.Attempt"/>; <c>AddTotalTimeout</c> and <c>AddAttemptTimeout</c> set it.</value>
    public TimeoutKind Kind { get; set; } = TimeoutKind.Attempt;

    /// <summary>Gets or sets a callback invoked when the timeout fires, before the call fails with <see cref="OperationTimeoutException"/>.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Action<TimeoutArguments>? OnTimeout { get; set; }
}

/// <summary>Validates <see cref="TimeoutOptions"/>.</summary>
public sealed class TimeoutOptionsValidator : IValidateOptions<TimeoutOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TimeoutOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        if (options.Timeout < TimeoutConstants.MinTimeout || options.Timeout > TimeoutConstants.MaxTimeout)
        {
            builder.AddError(
                $"Timeout ({options.Timeout}) must be between {TimeoutConstants.MinTimeout} and {TimeoutConstants.MaxTimeout}.",
                nameof(TimeoutOptions.Timeout));
        }

        if (!Enum.IsDefined(options.Kind))
        {
            builder.AddError($"Kind ({options.Kind}) is not a TimeoutKind.", nameof(TimeoutOptions.Kind));
        }

        return builder.Build();
    }

    internal static void ThrowIfInvalid(TimeoutOptions options)
    {
        var result = new TimeoutOptionsValidator().Validate(options.Name, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(options.Name ?? Options.DefaultName, typeof(TimeoutOptions), result.Failures);
        }
    }
}
