using Microsoft.Extensions.Options;
using Resilience.DependencyInjection;
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

        var errors = new OptionsErrors();
        Positive(options.TotalTimeout, "TotalTimeout", errors);
        Positive(options.AttemptTimeout, "AttemptTimeout", errors);
        if (options.TotalTimeout is { } total && options.AttemptTimeout is { } attempt && attempt > total)
        {
            errors.Add(_path, "AttemptTimeout", $"must not exceed TotalTimeout ({total}) (was {attempt}).");
        }

        if (options.ConcurrencyLimit is < 1)
        {
            errors.Add(_path, "ConcurrencyLimit", $"must be at least 1 (was {options.ConcurrencyLimit}).");
        }

        if (options.QueueLimit < 0)
        {
            errors.Add(_path, "QueueLimit", $"must not be negative (was {options.QueueLimit}).");
        }

        if (options.Retry is { } retry)
        {
            errors.AddResult(OptionsErrors.Join(_path, "Retry"), OptionsErrors.Run(new RetryOptionsValidator(), retry));
        }

        if (options.RetryBudget is { } budget)
        {
            errors.AddResult(OptionsErrors.Join(_path, "RetryBudget"), OptionsErrors.Run(new RetryBudgetOptionsValidator(), budget));
        }

        return errors.ToResult();
    }

    private void Positive(TimeSpan? value, string key, OptionsErrors errors)
    {
        if (value is { } v && v <= TimeSpan.Zero)
        {
            errors.Add(_path, key, $"must be positive (was {v}).");
        }
    }
}
