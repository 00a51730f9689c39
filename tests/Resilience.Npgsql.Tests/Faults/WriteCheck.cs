using Npgsql;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>Creates the table a <see cref="WriteLoad"/> writes to and checks the rows it left: none acknowledged lost, none duplicated.</summary>
internal static class WriteCheck
{
    public static async Task<string> CreateTableAsync(NpgsqlDataSource admin, string prefix)
    {
        var table = prefix + "_" + Guid.NewGuid().ToString("N")[..10];

        // No unique key on (writer, seq): a duplicate must be able to exist, or it could not be counted.
        await using var create = admin.CreateCommand($"CREATE TABLE {table} (writer int NOT NULL, seq int NOT NULL)");
        await create.ExecuteNonQueryAsync();
        return table;
    }

    public static async Task<WriteVerdict> VerifyAsync(NpgsqlDataSource admin, string table, LoadResult result)
    {
        var counts = new Dictionary<(int, int), long>();
        await using (var command = admin.CreateCommand($"SELECT writer, seq, count(*) FROM {table} GROUP BY writer, seq"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                counts[(reader.GetInt32(0), reader.GetInt32(1))] = reader.GetInt64(2);
            }
        }

        var lost = result.Calls.Count(c => c.Acknowledged && !counts.ContainsKey((c.Writer, c.Sequence)));
        var duplicates = counts.Values.Sum(n => n - 1);
        return new WriteVerdict(lost, duplicates, counts.Values.Sum());
    }
}

/// <summary>What the rows say about a run: acknowledged writes missing, extra copies of a row, rows in total.</summary>
internal readonly record struct WriteVerdict(int Lost, long Duplicates, long Rows);
