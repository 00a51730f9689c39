using Microsoft.Extensions.Options;

namespace Resilience.Timeouts;

/// <summary>The time limit of a long-running background task; bindable from configuration.</summary>
public sealed class DeadlineOptions
{
    /// <summary>Gets or sets the name reported in logs, metrics and <see cref="OperationTimeoutException"/>.</summary>
    /// <value>Defaults to <see langword="null"/>, reported as <c>deadline</c>.</value>
    public string? Name { get; set; }

    /// <summary>Gets or sets how long the task may run before its work is cancelled and it is reported failed.</summary>
    /// <value>Defaults to 15 minutes (the seeds' per-task limit); 1 ms to one day.</value>
    public TimeSpan Limit { get; set; } = TimeoutConstants.DefaultDeadline;

    /// <summary>Gets or sets how long to wait, after cancelling, for the work to stop before reporting it still running.</summary>
    /// <value>Defaults to 30 s; zero to one day.</value>
    public TimeSpan GracePeriod { get; set; } = TimeoutConstants.DefaultGracePeriod;
}

/// <summary>Validates <see cref="DeadlineOptions"/>.</summary>
public sealed class DeadlineOptionsValidator : IValidateOptions<DeadlineOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DeadlineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        if (options.Limit < TimeoutConstants.MinTimeout || options.Limit > TimeoutConstants.MaxTimeout)
        {
            builder.AddError(
                $"Limit ({options.Limit}) must be between {TimeoutConstants.MinTimeout} and {TimeoutConstants.MaxTimeout}.",
                nameof(DeadlineOptions.Limit));
        }

        if (options.GracePeriod < TimeSpan.Zero || options.GracePeriod > TimeoutConstants.MaxTimeout)
        {
            builder.AddError(
                $"GracePeriod ({options.GracePeriod}) must be between {TimeSpan.Zero} and {TimeoutConstants.MaxTimeout}.",
                nameof(DeadlineOptions.GracePeriod));
        }

        return builder.Build();
    }

    internal static void ThrowIfInvalid(DeadlineOptions options)
    {
        var result = new DeadlineOptionsValidator().Validate(options.Name, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(options.Name ?? Options.DefaultName, typeof(DeadlineOptions), result.Failures);
        }
    }
}
