using Npgsql;

namespace Resilience.Npgsql.Tests.Execution;

/// <summary>What the execution tests share: a table name of their own, a table created on the shared server, a scalar read, fast retries.</summary>
internal static class TestTables
{
    /// <summary>A name no other test uses, so tests on the shared server never meet each other's rows.</summary>
    public static string Unique(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Runs <paramref name="sql"/> (the table's DDL) and returns a pool on the same server for the test to use.</summary>
    public static async Task<NpgsqlDataSource> CreateTableAsync(string connectionString, string sql)
    {
        var pool = NpgsqlDataSource.Create(connectionString);
        await using var create = pool.CreateCommand(sql);
        await create.ExecuteNonQueryAsync();
        return pool;
    }

    public static async Task<long> ScalarAsync(NpgsqlDataSource pool, string sql)
    {
        await using var command = pool.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Retries 10–50 ms apart, so a test's retried faults take milliseconds.</summary>
    public static NpgsqlResilienceOptions FastRetries(TimeSpan? statementTimeout = null)
    {
        var options = new NpgsqlResilienceOptions { Name = "safe-retry" };
        options.Retry.BaseDelay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        options.QueryTimeouts.StatementTimeout = statementTimeout ?? TimeSpan.FromSeconds(10);
        return options;
    }
}
