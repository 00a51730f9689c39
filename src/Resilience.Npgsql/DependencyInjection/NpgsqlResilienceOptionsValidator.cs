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

        if (options.MaxWaitingCalls is { } waiting && (waiting < 1 || waiting > NpgsqlResilienceConstants.MaxMaxWaitingCalls))
        {
            errors.Add(section, nameof(NpgsqlResilienceOptions.MaxWaitingCalls), $"must be between 1 and {NpgsqlResilienceConstants.MaxMaxWaitingCalls} when set (was {waiting}).");
        }

        if (options.RecoveryProbeInterval < TimeSpan.Zero || options.RecoveryProbeInterval > NpgsqlResilienceConstants.MaxRecoveryProbeInterval)
        {
            errors.Add(section, nameof(NpgsqlResilienceOptions.RecoveryProbeInterval), $"must be between 0 (off) and {NpgsqlResilienceConstants.MaxRecoveryProbeInterval} (was {options.RecoveryProbeInterval}).");
        }

        CollectConcurrencyLimit(options.ConcurrencyLimit, OptionsErrors.Join(section, nameof(NpgsqlResilienceOptions.ConcurrencyLimit)), errors);
        QueryTimeoutOptionsValidator.Collect(options.QueryTimeouts, OptionsErrors.Join(section, nameof(NpgsqlResilienceOptions.QueryTimeouts)), errors);
        errors.AddResult(OptionsErrors.Join(section, nameof(NpgsqlResilienceOptions.Retry)), OptionsErrors.Run(new RetryOptionsValidator(), options.Retry));

        // The breaker runs with the adapter's adjustments (its failure rule, a cap never below the break), so those are checked.
        errors.Add(CircuitBreakerOptionsValidator.Collect(
            ResilientDataSource.CreateBreakerOptions(options.CircuitBreaker), OptionsErrors.Join(section, nameof(NpgsqlResilienceOptions.CircuitBreaker))));
        CollectIneffective(options.CircuitBreaker, OptionsErrors.Join(section, nameof(NpgsqlResilienceOptions.CircuitBreaker)), errors);
        errors.Add(PoolHealthOptionsValidator.Collect(options.PoolHealth, OptionsErrors.Join(section, nameof(NpgsqlResilienceOptions.PoolHealth))));
    }

    /// <summary>Checks the limit's values as set; the ones derived from the pool's size are checked against them by Core's rules when set.</summary>
    private static void CollectConcurrencyLimit(NpgsqlConcurrencyLimitOptions limit, string section, OptionsErrors errors)
    {
        var before = errors.Failures.Count;
        foreach (var (key, value) in new[] { ("MaxLimit", limit.MaxLimit), ("MinLimit", limit.MinLimit), ("InitialLimit", limit.InitialLimit) })
        {
            if (value is < 1 or > AdaptiveConcurrency.AdaptiveConcurrencyConstants.MaxLimitBound)
            {
                errors.Add(section, key, $"must be between 1 and {AdaptiveConcurrency.AdaptiveConcurrencyConstants.MaxLimitBound} when set (was {value}).");
            }
        }

        if (limit.QueueLimit is < 0)
        {
            errors.Add(section, "QueueLimit", $"must not be negative when set (was {limit.QueueLimit}).");
        }

        if (limit.MaxQueueWait < TimeSpan.Zero || limit.MaxQueueWait > NpgsqlResilienceConstants.MaxMaxQueueWait)
        {
            errors.Add(section, "MaxQueueWait", $"must be between 0 and {NpgsqlResilienceConstants.MaxMaxQueueWait} (was {limit.MaxQueueWait}).");
        }

        if (errors.Failures.Count > before)
        {
            return;
        }

        // The cross-value rules (MinLimit ≤ InitialLimit ≤ MaxLimit, tolerance, share) are Core's, run on the values set.
        var resolved = limit.Resolve(limit.MaxLimit ?? Math.Max(limit.MinLimit ?? 1, limit.InitialLimit ?? 1), acquireTimeoutSeconds: 0);
        errors.AddResult(section, OptionsErrors.Run(new AdaptiveConcurrency.AdaptiveConcurrencyOptionsValidator(), resolved));
    }

    /// <summary>
    /// Refuses a breaker setting moved from its default that the chosen mode ignores (e.g. a failure threshold under the
    /// default failure-ratio mode): the user meant it to do something, and it silently would not.
    /// </summary>
    private static void CollectIneffective(CircuitBreakerOptions breaker, string section, OptionsErrors errors)
    {
        var defaults = NpgsqlResilienceConstants.CreateDefaultBreaker();
        var mode = OptionsErrors.Join(section, nameof(CircuitBreakerOptions.Mode));
        if (breaker.Mode == CircuitBreakerMode.FailureRatio)
        {
            if (breaker.FailureThreshold != defaults.FailureThreshold)
            {
                Ineffective(nameof(CircuitBreakerOptions.FailureThreshold), CircuitBreakerMode.ConsecutiveFailures);
            }

            return;
        }

        if (breaker.FailureRatio != defaults.FailureRatio)
        {
            Ineffective(nameof(CircuitBreakerOptions.FailureRatio), CircuitBreakerMode.FailureRatio);
        }

        if (breaker.SamplingDuration != defaults.SamplingDuration)
        {
            Ineffective(nameof(CircuitBreakerOptions.SamplingDuration), CircuitBreakerMode.FailureRatio);
        }

        if (breaker.SamplingBuckets != defaults.SamplingBuckets)
        {
            Ineffective(nameof(CircuitBreakerOptions.SamplingBuckets), CircuitBreakerMode.FailureRatio);
        }

        if (breaker.MinimumThroughput != defaults.MinimumThroughput)
        {
            Ineffective(nameof(CircuitBreakerOptions.MinimumThroughput), CircuitBreakerMode.FailureRatio);
        }

        void Ineffective(string key, CircuitBreakerMode needs) => errors.Add(
            section,
            key,
            $"has no effect while {mode} is {breaker.Mode}; set {mode} to {needs} for it to apply, or remove it.");
    }
}
