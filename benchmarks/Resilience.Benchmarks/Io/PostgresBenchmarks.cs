using BenchmarkDotNet.Attributes;
using Npgsql;

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

    public static string? ConnectionString => Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } value ? value : null;

    [GlobalSetup]
    public void Setup()
    {
        var connectionString = ConnectionString
            ?? throw new InvalidOperationException($"{ConnectionVariable} is unset: PostgresBenchmarks needs a PostgreSQL to talk to.");
        _dataSource = NpgsqlDataSource.Create(connectionString);

        // ==== OURS: slot for Resilience.Npgsql (lead: fill in) ====
        // Reference src/Resilience.Npgsql in the csproj, wrap _dataSource (e.g. new ResilientDataSource(_dataSource, ...))
        // with the same pipeline thresholds as the other benchmarks, and uncomment Ours_ResilientDataSource below.
    }

    [GlobalCleanup]
    public void Cleanup() => _dataSource.Dispose();

    [Benchmark(Baseline = true)]
    public async Task<int> Bare_Npgsql()
    {
        await using var command = _dataSource.CreateCommand("SELECT 1");
        return (int)(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
    }

    // ==== OURS: uncomment once the resilient data source is set up above ====
    // [Benchmark]
    // public async Task<int> Ours_ResilientDataSource() => ...;
}
