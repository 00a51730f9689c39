using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Npgsql;
using Resilience.Npgsql;

namespace Resilience.Benchmarks.Io;

/// <summary>
/// <c>SELECT 1</c> (read) and a one-row <c>INSERT</c> (write) against a real PostgreSQL through a pooled
/// <see cref="NpgsqlDataSource"/>, ours against bare Npgsql, each group with its own baseline. Needs the connection
/// string in <see cref="ConnectionVariable"/>; Program.cs filters this class out, with a message, when it is unset.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("io")]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PostgresBenchmarks
{
    public const string ConnectionVariable = "RESILIENCE_PG_CONNECTION";
    private const string Insert = "INSERT INTO bench_writes (payload) VALUES ($1)";
    private static readonly object?[] Payload = ["benchmark"];

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
        using var create = _dataSource.CreateCommand("CREATE TABLE IF NOT EXISTS bench_writes (id bigserial PRIMARY KEY, payload text NOT NULL)");
        create.ExecuteNonQuery();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _dataSource.Dispose();
        _oursDataSource.Dispose();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("read")]
    public async Task<int> Bare_Npgsql()
    {
        await using var command = _dataSource.CreateCommand("SELECT 1");
        return (int)(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
    }

    /// <summary>The same query through Resilience.Npgsql, marked idempotent: the difference is the pipeline alone (one round trip, like bare).</summary>
    [Benchmark]
    [BenchmarkCategory("read")]
    public ValueTask<int> Ours_ResilientDataSource() =>
        _ours.ExecuteAsync(static async (command, _, ct) =>
        {
            command.CommandText = "SELECT 1";
            return (int)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }, 0, DbCallOptions.Idempotent, CancellationToken.None);

    /// <summary>A delegate call not marked idempotent: BEGIN + <c>pg_current_xact_id()</c>, the statement, COMMIT (two extra round trips).</summary>
    [Benchmark]
    [BenchmarkCategory("read")]
    public ValueTask<int> Ours_NotIdempotent() =>
        _ours.ExecuteAsync(static async (command, _, ct) =>
        {
            command.CommandText = "SELECT 1";
            return (int)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }, 0, default, CancellationToken.None);

    /// <summary>A bare autocommit INSERT: one round trip, and no way to know its outcome if the reply is lost.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("write")]
    public async Task<int> Bare_Insert()
    {
        await using var command = _dataSource.CreateCommand(Insert);
        command.Parameters.Add(new NpgsqlParameter { Value = Payload[0] });
        return await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>The same INSERT not marked idempotent: BEGIN + INSERT + <c>pg_current_xact_id()</c> in one batch, then COMMIT (one extra round trip).</summary>
    [Benchmark]
    [BenchmarkCategory("write")]
    public ValueTask<int> Ours_NotIdempotentInsert() => _ours.ExecuteNonQueryAsync(Insert, Payload);

    /// <summary>The same INSERT through the delegate overload, not marked idempotent (two extra round trips: the transaction id is asked first).</summary>
    [Benchmark]
    [BenchmarkCategory("write")]
    public ValueTask<int> Ours_NotIdempotentInsert_Delegate() =>
        _ours.ExecuteAsync(static async (command, payload, ct) =>
        {
            command.CommandText = Insert;
            command.Parameters.Add(new NpgsqlParameter { Value = payload[0] });
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, Payload, default, CancellationToken.None);
}
