using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Fallback;
using Resilience.Retry;

namespace Resilience.DependencyInjection;

/// <summary>
/// Binds options from configuration without reflection (trimming-safe), reporting every unknown key and unparsable
/// value by its full configuration path.
/// </summary>
internal static class OptionsBinder
{
    public static void Bind(IConfiguration section, string name, CircuitBreakerOptions options)
    {
        var errors = new List<string>();
        foreach (var child in section.GetChildren())
        {
            var value = child.Value;
            switch (child.Key.ToUpperInvariant())
            {
                case "MODE":
                    if (Enum.TryParse<CircuitBreakerMode>(value, ignoreCase: true, out var mode) && Enum.IsDefined(mode))
                    {
                        options.Mode = mode;
                    }
                    else
                    {
                        errors.Add($"{child.Path}: '{value}' is not a mode; use ConsecutiveFailures or FailureRatio.");
                    }

                    break;
                case "FAILURETHRESHOLD": options.FailureThreshold = ParseInt(child, errors, options.FailureThreshold); break;
                case "BREAKDURATION": options.BreakDuration = ParseTimeSpan(child, errors, options.BreakDuration); break;
                case "FAILURERATIO": options.FailureRatio = ParseDouble(child, errors, options.FailureRatio); break;
                case "SAMPLINGDURATION": options.SamplingDuration = ParseTimeSpan(child, errors, options.SamplingDuration); break;
                case "SAMPLINGBUCKETS": options.SamplingBuckets = ParseInt(child, errors, options.SamplingBuckets); break;
                case "MINIMUMTHROUGHPUT": options.MinimumThroughput = ParseInt(child, errors, options.MinimumThroughput); break;
                case "SLOWCALLTHRESHOLD":
                    options.SlowCallThreshold = string.IsNullOrWhiteSpace(value) ? null : ParseTimeSpan(child, errors, TimeSpan.Zero);
                    break;
                case "PERMITTEDPROBES": options.PermittedProbes = ParseInt(child, errors, options.PermittedProbes); break;
                case "BREAKDURATIONFACTOR": options.BreakDurationFactor = ParseDouble(child, errors, options.BreakDurationFactor); break;
                case "MAXBREAKDURATION": options.MaxBreakDuration = ParseTimeSpan(child, errors, options.MaxBreakDuration); break;
                case "PROBETIMEOUT": options.ProbeTimeout = ParseTimeSpan(child, errors, options.ProbeTimeout); break;
                default:
                    errors.Add($"{child.Path}: unknown key; expected one of Mode, FailureThreshold, BreakDuration, FailureRatio, SamplingDuration, SamplingBuckets, MinimumThroughput, SlowCallThreshold, PermittedProbes, BreakDurationFactor, MaxBreakDuration, ProbeTimeout.");
                    break;
            }
        }

        ThrowIfAny(errors, name, typeof(CircuitBreakerOptions));
    }

    public static void Bind(IConfiguration section, string name, CachedFallbackOptions options)
    {
        var errors = new List<string>();
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "MAXENTRIES": options.MaxEntries = ParseInt(child, errors, options.MaxEntries); break;
                case "MAXSTALENESS": options.MaxStaleness = ParseTimeSpan(child, errors, options.MaxStaleness); break;
                default: errors.Add($"{child.Path}: unknown key; expected MaxEntries or MaxStaleness."); break;
            }
        }

        ThrowIfAny(errors, name, typeof(CachedFallbackOptions));
    }

    public static void Bind(IConfiguration section, string name, ResiliencePipelineOptions options)
    {
        var errors = new List<string>();
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "TOTALTIMEOUT": options.TotalTimeout = ParseTimeSpan(child, errors, TimeSpan.Zero); break;
                case "ATTEMPTTIMEOUT": options.AttemptTimeout = ParseTimeSpan(child, errors, TimeSpan.Zero); break;
                case "CONCURRENCYLIMIT": options.ConcurrencyLimit = ParseInt(child, errors, 0); break;
                case "QUEUELIMIT": options.QueueLimit = ParseInt(child, errors, 0); break;
                case "RETRY": BindRetry(child, options.Retry ??= new RetryOptions(), errors); break;
                case "RETRYBUDGET": BindBudget(child, options.RetryBudget ??= new RetryBudgetOptions(), errors); break;
                case "CIRCUITBREAKER": options.CircuitBreaker = true; break;
                default:
                    errors.Add($"{child.Path}: unknown key; expected one of TotalTimeout, AttemptTimeout, ConcurrencyLimit, QueueLimit, Retry, RetryBudget, CircuitBreaker.");
                    break;
            }
        }

        ThrowIfAny(errors, name, typeof(ResiliencePipelineOptions));
    }

    private static void BindRetry(IConfigurationSection section, RetryOptions options, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "MAXRETRIES": options.MaxRetries = ParseInt(child, errors, options.MaxRetries); break;
                case "BASEDELAY": options.BaseDelay = ParseTimeSpan(child, errors, options.BaseDelay); break;
                case "MAXDELAY": options.MaxDelay = ParseTimeSpan(child, errors, options.MaxDelay); break;
                case "BACKOFFFACTOR": options.BackoffFactor = ParseDouble(child, errors, options.BackoffFactor); break;
                case "BACKOFF": options.Backoff = ParseEnum(child, errors, options.Backoff); break;
                case "JITTER": options.Jitter = ParseEnum(child, errors, options.Jitter); break;
                default:
                    errors.Add($"{child.Path}: unknown key; expected one of MaxRetries, BaseDelay, MaxDelay, Backoff, BackoffFactor, Jitter.");
                    break;
            }
        }
    }

    private static void BindBudget(IConfigurationSection section, RetryBudgetOptions options, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "MAXTOKENS": options.MaxTokens = ParseDouble(child, errors, options.MaxTokens); break;
                case "DEPOSITPERSUCCESS": options.DepositPerSuccess = ParseDouble(child, errors, options.DepositPerSuccess); break;
                case "MINRETRIESPERSECOND": options.MinRetriesPerSecond = ParseInt(child, errors, options.MinRetriesPerSecond); break;
                default:
                    errors.Add($"{child.Path}: unknown key; expected one of MaxTokens, DepositPerSuccess, MinRetriesPerSecond.");
                    break;
            }
        }
    }

    private static TEnum ParseEnum<TEnum>(IConfigurationSection child, List<string> errors, TEnum fallback)
        where TEnum : struct, Enum
    {
        if (Enum.TryParse<TEnum>(child.Value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
        {
            return parsed;
        }

        errors.Add($"{child.Path}: '{child.Value}' is not one of {string.Join(", ", Enum.GetNames<TEnum>())}.");
        return fallback;
    }

    internal static void ThrowIfAny(List<string> errors, string name, Type type)
    {
        if (errors.Count != 0)
        {
            throw new OptionsValidationException(name, type, errors);
        }
    }

    internal static int ParseInt(IConfigurationSection child, List<string> errors, int fallback)
    {
        if (int.TryParse(child.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }

        errors.Add($"{child.Path}: '{child.Value}' is not a whole number.");
        return fallback;
    }

    internal static double ParseDouble(IConfigurationSection child, List<string> errors, double fallback)
    {
        if (double.TryParse(child.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }

        errors.Add($"{child.Path}: '{child.Value}' is not a number.");
        return fallback;
    }

    internal static TimeSpan ParseTimeSpan(IConfigurationSection child, List<string> errors, TimeSpan fallback)
    {
        if (TimeSpan.TryParse(child.Value, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }

        errors.Add($"{child.Path}: '{child.Value}' is not a duration; write it as \"hh:mm:ss\" (e.g. \"00:01:00\").");
        return fallback;
    }

    internal static bool ParseBool(IConfigurationSection child, List<string> errors, bool fallback)
    {
        if (bool.TryParse(child.Value, out var parsed))
        {
            return parsed;
        }

        errors.Add($"{child.Path}: '{child.Value}' is not true or false.");
        return fallback;
    }
}
