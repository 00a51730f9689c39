namespace Resilience.Npgsql;

/// <summary>Defaults and limits of <see cref="NpgsqlResilienceOptions"/>, used by the initializers, the validation and the docs.</summary>
internal static class NpgsqlResilienceConstants
{
    public const string DefaultName = "postgres";
    public static readonly TimeSpan MinTotalTimeout = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaxTotalTimeout = TimeSpan.FromHours(1);
}
