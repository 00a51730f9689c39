using Microsoft.Extensions.Options;
using Resilience.DependencyInjection;

namespace Resilience.Health;

/// <summary>Validates <see cref="PoolHealthOptions"/>, listing every broken rule with its key.</summary>
/// <remarks>Hand-written rather than DataAnnotations so it stays trimming-safe and can check rules across fields.</remarks>
public sealed class PoolHealthOptionsValidator : IValidateOptions<PoolHealthOptions>
{
    internal static readonly PoolHealthOptionsValidator Instance = new();

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PoolHealthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Collect(options, "PoolHealth").ToResult();
    }

    /// <summary>Checks <paramref name="options"/>, reporting each broken rule as <c>{section}:{Key}: {rule}</c>.</summary>
    internal static OptionsErrors Collect(PoolHealthOptions options, string section)
    {
        var failures = new OptionsErrors();

        if (options.CheckInterval < PoolHealthConstants.MinCheckInterval || options.CheckInterval > PoolHealthConstants.MaxCheckInterval)
        {
            failures.Add(section, nameof(PoolHealthOptions.CheckInterval), $"must be between {PoolHealthConstants.MinCheckInterval} and {PoolHealthConstants.MaxCheckInterval} (was {options.CheckInterval}).");
        }

        if (options.PingTimeout <= TimeSpan.Zero)
        {
            failures.Add(section, nameof(PoolHealthOptions.PingTimeout), $"must be positive (was {options.PingTimeout}).");
        }
        else if (options.PingTimeoutIsSet && options.PingTimeout > options.CheckInterval)
        {
            failures.Add(section, nameof(PoolHealthOptions.PingTimeout), $"must not exceed {nameof(PoolHealthOptions.CheckInterval)} (was {options.PingTimeout} > {options.CheckInterval}).");
        }

        if (options.SlowPingThreshold <= TimeSpan.Zero)
        {
            failures.Add(section, nameof(PoolHealthOptions.SlowPingThreshold), $"must be positive (was {options.SlowPingThreshold}).");
        }
        else if (options.SlowPingThreshold >= options.PingTimeout)
        {
            // Named when derived: the user set one key and should learn which other one to set.
            var derived = options.PingTimeoutIsSet ? string.Empty : $"; {nameof(PoolHealthOptions.PingTimeout)} is not set and defaults to the shorter of 5 s and {nameof(PoolHealthOptions.CheckInterval)}: set it above {options.SlowPingThreshold}";
            failures.Add(section, nameof(PoolHealthOptions.SlowPingThreshold), $"must be below {nameof(PoolHealthOptions.PingTimeout)} (was {options.SlowPingThreshold} >= {options.PingTimeout}{derived}).");
        }

        if (options.WaitersSustainedFor < TimeSpan.Zero)
        {
            failures.Add(section, nameof(PoolHealthOptions.WaitersSustainedFor), $"must not be negative (was {options.WaitersSustainedFor}).");
        }

        if (options.AcquireWaitBudget <= TimeSpan.Zero)
        {
            failures.Add(section, nameof(PoolHealthOptions.AcquireWaitBudget), $"must be positive (was {options.AcquireWaitBudget}).");
        }

        if (options.MaxReportAge < TimeSpan.Zero || options.MaxReportAge > PoolHealthConstants.MaxMaxReportAge)
        {
            failures.Add(section, nameof(PoolHealthOptions.MaxReportAge), $"must be between 0 and {PoolHealthConstants.MaxMaxReportAge} (was {options.MaxReportAge}).");
        }

        if (options.AcquireTimeoutWindow <= TimeSpan.Zero)
        {
            failures.Add(section, nameof(PoolHealthOptions.AcquireTimeoutWindow), $"must be positive (was {options.AcquireTimeoutWindow}).");
        }

        if (options.CriticalAfterPingFailures < 1 || options.CriticalAfterPingFailures > PoolHealthConstants.MaxCriticalAfterPingFailures)
        {
            failures.Add(section, nameof(PoolHealthOptions.CriticalAfterPingFailures), $"must be between 1 and {PoolHealthConstants.MaxCriticalAfterPingFailures} (was {options.CriticalAfterPingFailures}).");
        }

        return failures;
    }
}
