using System.Diagnostics;
using Npgsql;

namespace Resilience.Chaos.Database;

/// <summary>Reads <c>pg_stat_activity</c> from a connection of its own, to see what the server is still running for a pool.</summary>
internal sealed class ServerActivity : IAsyncDisposable
{
    private readonly NpgsqlDataSource _observer;

    public ServerActivity(string connectionString)
    {
        _observer = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "chaos-observer", MaxPoolSize = 1 }.ConnectionString);
    }

    /// <summary>Counts the statements of <paramref name="applicationName"/> that are active and match <paramref name="queryLike"/>.</summary>
    public async Task<long> CountActiveAsync(string applicationName, string queryLike)
    {
        await using var command = _observer.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE $2");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = applicationName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = queryLike });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// Polls back to back (each poll is one sub-millisecond round trip, no sleeping) until no such statement runs, up to
    /// <paramref name="limit"/>; returns how long that took, or <see langword="null"/> when it was still running at the limit.
    /// </summary>
    public async Task<TimeSpan?> TimeUntilGoneAsync(string applicationName, string queryLike, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < limit)
        {
            if (await CountActiveAsync(applicationName, queryLike) == 0)
            {
                return watch.Elapsed;
            }
        }

        return null;
    }

    public ValueTask DisposeAsync() => _observer.DisposeAsync();
}
