using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Health;
using Resilience.Retry;

namespace Resilience.Npgsql;

/// <summary>Validates <see cref="NpgsqlResilienceOptions"/>: the name and both nested option groups, every failure keyed.</summary>
internal sealed class NpgsqlResilienceOptionsValidator : IValidateOptions<NpgsqlResilienceOptions>
{
    public static readonly NpgsqlResilienceOptionsValidator Instance = new();

    public static void ThrowIfInvalid(NpgsqlResilienceOptions options)
    {
        var result = Instance.Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(NpgsqlResilienceOptions), result.Failures);
        }
    }

    public ValidateOptionsResult Validate(string? name, NpgsqlResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            failures.Add($"{nameof(NpgsqlResilienceOptions.Name)} must not be empty.");
        }

        if (options.TotalTimeout is { } total
            && (total < NpgsqlResilienceConstants.MinTotalTimeout || total > NpgsqlResilienceConstants.MaxTotalTimeout))
        {
            failures.Add($"{nameof(NpgsqlResilienceOptions.TotalTimeout)} must be between {NpgsqlResilienceConstants.MinTotalTimeout} and {NpgsqlResilienceConstants.MaxTotalTimeout} when set (was {total}).");
        }

        AddPrefixed(failures, nameof(NpgsqlResilienceOptions.QueryTimeouts), QueryTimeoutOptionsValidator.Instance.Validate(name, options.QueryTimeouts));
        AddPrefixed(failures, nameof(NpgsqlResilienceOptions.Retry), new RetryOptionsValidator().Validate(name, options.Retry));
        AddBreakerFailures(failures, options.CircuitBreaker);
        AddPrefixed(failures, nameof(NpgsqlResilienceOptions.PoolHealth), PoolHealthValidation.Validate(options.PoolHealth));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Core's breaker validator is internal; its constructor runs it and reports keys as "CircuitBreakers:{name}:...",
    // which are rewritten to this section's key.
    private static void AddBreakerFailures(List<string> failures, CircuitBreakerOptions options)
    {
        const string Probe = "validation";
        try
        {
            _ = new CircuitBreaker(Probe, ResilientDataSource.CreateBreakerOptions(options));
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                failures.Add(failure.Replace("CircuitBreakers:" + Probe, nameof(NpgsqlResilienceOptions.CircuitBreaker), StringComparison.Ordinal));
            }
        }
    }

    private static void AddPrefixed(List<string> failures, string section, ValidateOptionsResult result)
    {
        if (result.Failed)
        {
            foreach (var failure in result.Failures!)
            {
                failures.Add(section + ":" + failure);
            }
        }
    }
}

/// <summary>Runs <see cref="PoolHealthOptions.Validate"/> and returns its failures instead of throwing.</summary>
internal static class PoolHealthValidation
{
    public static ValidateOptionsResult Validate(PoolHealthOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (OptionsValidationException ex)
        {
            return ValidateOptionsResult.Fail(ex.Failures);
        }
    }
}
