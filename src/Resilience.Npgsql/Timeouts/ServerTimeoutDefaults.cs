using System.Globalization;
using Npgsql;

namespace Resilience.Npgsql;

/// <summary>
/// The default <c>statement_timeout</c>/<c>lock_timeout</c> as start-up options of every physical connection, so a call under
/// the default limits needs no round trip to set them. <c>DISCARD ALL</c> on a pooled connection restores them (they are the
/// session's defaults, not a <c>SET</c>).
/// </summary>
internal static class ServerTimeoutDefaults
{
    public static string StartupOptions(QueryTimeoutOptions timeouts) => string.Create(
        CultureInfo.InvariantCulture,
        $"-c statement_timeout={Milliseconds(timeouts.StatementTimeout)} -c lock_timeout={Milliseconds(timeouts.EffectiveLockTimeout)}");

    /// <summary>Appends the limits to the connection string's <c>Options</c> (last, so they win over earlier <c>-c</c> settings).</summary>
    public static void Apply(NpgsqlConnectionStringBuilder builder, QueryTimeoutOptions timeouts)
    {
        var ours = StartupOptions(timeouts);
        if (!AreApplied(builder.Options, timeouts))
        {
            builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? ours : builder.Options + " " + ours;
        }
    }

    /// <summary>Returns whether every connection of a data source with <paramref name="connectionString"/> starts with these limits.</summary>
    public static bool AreAppliedTo(string connectionString, QueryTimeoutOptions timeouts) =>
        AreApplied(new NpgsqlConnectionStringBuilder(connectionString).Options, timeouts);

    public static long Milliseconds(TimeSpan value) => (long)Math.Ceiling(value.TotalMilliseconds);

    private static bool AreApplied(string? options, QueryTimeoutOptions timeouts) =>
        options is not null && options.TrimEnd().EndsWith(StartupOptions(timeouts), StringComparison.Ordinal);
}
