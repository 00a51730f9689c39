using System.Security.Cryptography;
using System.Text;
using ContentService.Security;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Resilience.Testing;

namespace ContentService.Tests.Security;

public sealed class ApiKeyStoreTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task IssueAsync_StoresOnlyTheHash_AndValidateAsyncAcceptsTheKey()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString);
        _ = factory.Services;
        var store = factory.Services.GetRequiredService<ApiKeyStore>();

        var key = await store.IssueAsync("octocat", DateTimeOffset.UtcNow.AddHours(1), CancellationToken.None);
        var identity = await store.ValidateAsync(key, CancellationToken.None);

        Assert.Equal("octocat", identity?.Owner);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var stored = dataSource.CreateCommand("SELECT key_hash FROM api_keys");
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(key)), (byte[])(await stored.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task ValidateAsync_ExpiredOrUnknownKey_ReturnsNull_ConfiguredKeyReturnsOwner()
    {
        var connectionString = await TestDatabase.CreateAsync(postgres.ConnectionString);
        await using var factory = new ContentServiceFactory(connectionString);
        _ = factory.Services;
        var store = factory.Services.GetRequiredService<ApiKeyStore>();

        var expired = await store.IssueAsync("octocat", DateTimeOffset.UtcNow.AddMinutes(-1), CancellationToken.None);

        Assert.Null(await store.ValidateAsync(expired, CancellationToken.None));
        Assert.Null(await store.ValidateAsync("not-a-key-at-all-0000", CancellationToken.None));
        Assert.Equal("tests", (await store.ValidateAsync(ContentServiceFactory.ApiKey, CancellationToken.None))?.Owner);
    }
}
