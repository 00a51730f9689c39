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
    private NpgsqlDataSource _oursDataSource = null!;
    private ResilientDataSource _ours = null!;

    public static string? ConnectionString => Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } value ? value : null;

    [GlobalSetup]
    public void Setup()
    {
        var connectionString = ConnectionString
            ?? throw new InvalidOperationException($"{ConnectionVariable} is unset: PostgresBenchmarks needs a PostgreSQL to talk to.");
        _dataSource = NpgsqlDataSource.Create(connectionString);

        // Ours as AddNpgsqlResilience builds it: the default statement_timeout/lock_timeout are start-up options of each
        // physical connection (UseQueryTimeouts), so an idempotent call is the statement alone; retry and breaker defaults.
        _oursDataSource = new NpgsqlDataSourceBuilder(connectionString).UseQueryTimeouts().Build();
        _ours = new ResilientDataSource(_oursDataSource);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _dataSource.Dispose();
        _oursDataSource.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<int> Bare_Npgsql()
    {
        await using var command = _dataSource.CreateCommand("SELECT 1");
        return (int)(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
    }

    /// <summary>The same query through Resilience.Npgsql, marked idempotent: the difference is the pipeline alone (one round trip, like bare).</summary>
    [Benchmark]
    public ValueTask<int> Ours_ResilientDataSource() =>
        _ours.ExecuteAsync(static async (command, _, ct) =>
        {
            command.CommandText = "SELECT 1";
            return (int)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }, 0, DbCallOptions.Idempotent, CancellationToken.None);

    /// <summary>A call not marked idempotent keeps its own transaction (BEGIN is pipelined with the statement; COMMIT is the one extra round trip).</summary>
    [Benchmark]
    public ValueTask<int> Ours_NotIdempotent() =>
        _ours.ExecuteAsync(static async (command, _, ct) =>
        {
            command.CommandText = "SELECT 1";
            return (int)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }, 0, default, CancellationToken.None);
}
