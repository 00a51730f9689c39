using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.DependencyInjection;
using Resilience.Health;
using Resilience.Retry;

namespace Resilience.Npgsql;

/// <summary>Validates <see cref="NpgsqlResilienceOptions"/>: the name, the total timeout and every nested option group, each failure as <c>{Section}:{Key}: {rule}</c>.</summary>
internal sealed class NpgsqlResilienceOptionsValidator : IValidateOptions<NpgsqlResilienceOptions>
{
    public static readonly NpgsqlResilienceOptionsValidator Instance = new();

    public static void ThrowIfInvalid(NpgsqlResilienceOptions options)
    {
        var errors = new OptionsErrors();
        Collect(options, string.Empty, errors);
        errors.ThrowIfAny(Options.DefaultName, typeof(NpgsqlResilienceOptions));
    }

    public ValidateOptionsResult Validate(string? name, NpgsqlResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new OptionsErrors();
        Collect(options, string.Empty, errors);
        return errors.ToResult();
    }

    /// <summary>Checks <paramref name="options"/> bound from the section at <paramref name="section"/> (empty at the root).</summary>
    public static void Collect(NpgsqlResilienceOptions options, string section, OptionsErrors errors)
    {
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            errors.Add(section, nameof(NpgsqlResilienceOptions.Name), "must not be empty.");
        }

        if (options.TotalTimeout is { } total
            && (total < NpgsqlResilienceConstants.MinTotalTimeout || total > NpgsqlResilienceConstants.MaxTotalTimeout))
        {
            errors.Add(section, nameof(NpgsqlResilienceOptions.TotalTimeout), $"must be between {NpgsqlResilienceConstants.MinTotalTimeout} and {NpgsqlResilienceConstants.MaxTotalTimeout} when set (was {total}).");
        }

        QueryTimeoutOptionsValidator.Collect(options.QueryTimeouts, OptionsErrors.Join(section, nameof(NpgsqlResilienceOptions.QueryTimeouts)), errors);
        errors.AddResult(OptionsErrors.Join(section, nameof(NpgsqlResilienceOptions.Retry)), OptionsErrors.Run(new RetryOptionsValidator(), options.Retry));

        // The breaker runs with the adapter's adjustments (its failure rule, a cap never below the break), so those are checked.
        errors.Add(CircuitBreakerOptionsValidator.Collect(
            ResilientDataSource.CreateBreakerOptions(options.CircuitBreaker), OptionsErrors.Join(section, nameof(NpgsqlResilienceOptions.CircuitBreaker))));
        errors.Add(PoolHealthOptionsValidator.Collect(options.PoolHealth, OptionsErrors.Join(section, nameof(NpgsqlResilienceOptions.PoolHealth))));
    }
}
