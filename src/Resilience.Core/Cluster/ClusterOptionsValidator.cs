using Microsoft.Extensions.Options;

namespace Resilience.Cluster;

/// <summary>Validates <see cref="ClusterOptions"/>: each setting's range and the rules between the intervals.</summary>
public sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = new ValidateOptionsResultBuilder();
        Check(options.SyncInterval >= TimeSpan.FromMilliseconds(10) && options.SyncInterval <= TimeSpan.FromMinutes(1), nameof(ClusterOptions.SyncInterval), "between 10 ms and 1 minute");
        Check(options.LeaseTime >= 2 * options.SyncInterval, nameof(ClusterOptions.LeaseTime), "at least twice SyncInterval");
        Check(options.VoteWindow >= options.SyncInterval, nameof(ClusterOptions.VoteWindow), "at least SyncInterval");
        Check(options.Quorum is null or >= 1, nameof(ClusterOptions.Quorum), "1 or more");
        Check(options.StoreTimeout >= TimeSpan.FromMilliseconds(10) && options.StoreTimeout <= TimeSpan.FromMinutes(1), nameof(ClusterOptions.StoreTimeout), "between 10 ms and 1 minute");
        Check(options.InstanceId is null || !string.IsNullOrWhiteSpace(options.InstanceId), nameof(ClusterOptions.InstanceId), "not blank");
        return builder.Build();

        void Check(bool valid, string key, string rule)
        {
            if (!valid)
            {
                builder.AddError($"{key}: must be {rule}.", key);
            }
        }
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every error of <paramref name="options"/>.</summary>
    internal static void ThrowIfInvalid(ClusterOptions options)
    {
        var result = new ClusterOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException("Cluster", typeof(ClusterOptions), result.Failures);
        }
    }
}
