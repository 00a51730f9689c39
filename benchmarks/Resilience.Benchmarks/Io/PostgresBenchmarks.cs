using BenchmarkDotNet.Attributes;
using Npgsql;
using Resilience.Npgsql;

namespace Resilience.Benchmarks.Io;

/// <summary>
/// <c>SELECT 1</c> against a real PostgreSQL through a pooled <see cref="NpgsqlDataSource"/>. Needs the connection
/// string in <see cref="ConnectionVariable"/>; Program.cs filters this class out, with a message, when it is unset.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("io")]
public class PostgresBenchmarks
{
    public const string ConnectionVariable = "RESILIENCE_PG_CONNECTION";

    private NpgsqlDataSource _dataSource = null!;
    private ResilientDataSource _ours = null!;

    public static string? ConnectionString => Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } value ? value : null;

    [GlobalSetup]
    public void Setup()
    {
        var connectionString = ConnectionString
            ?? throw new InvalidOperationException($"{ConnectionVariable} is unset: PostgresBenchmarks needs a PostgreSQL to talk to.");
        _dataSource = NpgsqlDataSource.Create(connectionString);

        // Ours with its defaults: retry (database preset), breaker, per-call statement_timeout/lock_timeout in a transaction.
        _ours = new ResilientDataSource(_dataSource);
    }

    [GlobalCleanup]
    public void Cleanup() => _dataSource.Dispose();

    [Benchmark(Baseline = true)]
    public async Task<int> Bare_Npgsql()
    {
        await using var command = _dataSource.CreateCommand("SELECT 1");
        return (int)(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
    }

    /// <summary>The same query through Resilience.Npgsql: the difference is the pipeline plus the server-side timeout settings.</summary>
    [Benchmark]
    public ValueTask<int> Ours_ResilientDataSource() =>
        _ours.ExecuteAsync(static async (command, _, ct) =>
        {
            command.CommandText = "SELECT 1";
            return (int)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }, 0, DbCallOptions.Idempotent, CancellationToken.None);
}
