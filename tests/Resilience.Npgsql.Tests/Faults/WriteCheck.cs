using Npgsql;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>Creates the table a <see cref="WriteLoad"/> writes to.</summary>
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
}
