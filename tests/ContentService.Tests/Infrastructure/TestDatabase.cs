using Npgsql;

namespace ContentService.Tests.Infrastructure;

/// <summary>A fresh database on the shared test server, so each test's counts and metrics are its own.</summary>
internal static class TestDatabase
{
    public static async Task<string> CreateAsync(string serverConnectionString)
    {
        var name = "cs_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = NpgsqlDataSource.Create(serverConnectionString))
        await using (var create = admin.CreateCommand($"CREATE DATABASE {name}"))
        {
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
    }
}
