using Microsoft.Extensions.Options;
using Resilience.Retry;

namespace Resilience;

/// <summary>Validates one named pipeline's options, naming each bad key by its configuration path.</summary>
public sealed class ResiliencePipelineOptionsValidator : IValidateOptions<ResiliencePipelineOptions>
{
    private readonly string? _name;
    private readonly string _path;

    /// <summary>Initializes a new instance of the <see cref="ResiliencePipelineOptionsValidator"/> class that validates options of every name.</summary>
    public ResiliencePipelineOptionsValidator()
        : this(null, "Pipeline")
    {
    }

    internal ResiliencePipelineOptionsValidator(string? name, string path)
    {
        _name = name;
        _path = path;
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ResiliencePipelineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_name is not null && name != _name)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>();
        Positive(options.TotalTimeout, "TotalTimeout", errors);
        Positive(options.AttemptTimeout, "AttemptTimeout", errors);
        if (options.TotalTimeout is { } total && options.AttemptTimeout is { } attempt && attempt > total)
        {
            errors.Add($"{_path}:AttemptTimeout: {attempt} must not exceed TotalTimeout ({total}).");
        }

        if (options.ConcurrencyLimit is < 1)
        {
            errors.Add($"{_path}:ConcurrencyLimit: {options.ConcurrencyLimit} must be at least 1.");
        }

        if (options.QueueLimit < 0)
        {
            errors.Add($"{_path}:QueueLimit: {options.QueueLimit} must not be negative.");
        }

        if (options.Retry is { } retry)
        {
            Collect(new RetryOptionsValidator().Validate(name, retry), "Retry", errors);
        }

        if (options.RetryBudget is { } budget)
        {
            Collect(new RetryBudgetOptionsValidator().Validate(name, budget), "RetryBudget", errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private void Positive(TimeSpan? value, string key, List<string> errors)
    {
        if (value is { } v && v <= TimeSpan.Zero)
        {
            errors.Add($"{_path}:{key}: {v} must be positive.");
        }
    }

    private void Collect(ValidateOptionsResult result, string key, List<string> errors)
    {
        if (result.Failed)
        {
            foreach (var failure in result.Failures)
            {
                errors.Add($"{_path}:{key}: {failure}");
            }
        }
    }
}
