using System.Net;
using ContentService.Security;
using ContentService.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Resilience.Testing;

namespace ContentService.Tests.Security;

/// <summary>
/// Key administration over real HTTP on a real database: list, rotate (grace period on the fake clock), revoke, the
/// audit log, with two service instances sharing the database.
/// </summary>
public sealed class KeyAdminTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string AdminKey = "admin-key-0123456789abcdef";

    [Fact]
    public async Task Admin_MissingOrWrongAdminKey_401_ApiKeyIsNotAnAdminKey()
    {
        await using var setup = await Setup.StartAsync(postgres);
        using var anonymous = setup.First.CreateClient();
        using var wrong = setup.First.CreateClient();
        wrong.DefaultRequestHeaders.Add(AdminKeyFilter.HeaderName, "not-the-admin-key-at-all");
        using var writer = setup.First.CreateWriter();

        foreach (var client in new[] { anonymous, wrong, writer })
        {
            using var response = await Json.GetAsync(client, "/admin/keys");
            await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "ERR_UNAUTHORIZED");
        }
    }

    [Fact]
    public async Task Admin_NoAdminKeyConfigured_503NamingTheSetting()
    {
        await using var service = new ContentServiceFactory(await TestDatabase.CreateAsync(postgres.ConnectionString));
        using var client = service.CreateClient();
        client.DefaultRequestHeaders.Add(AdminKeyFilter.HeaderName, AdminKey);

        using var response = await Json.GetAsync(client, "/admin/keys");

        var problem = await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "ERR_ADMIN_NOT_CONFIGURED");
        Assert.Contains("Security__AdminKey", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListKeys_ShowsIssuedKeys_NeverTheSecretOrItsHash()
    {
        await using var setup = await Setup.StartAsync(postgres);
        var (id, key) = await setup.IssueAsync("github:octocat");

        using var response = await Json.GetAsync(setup.Admin, "/admin/keys");

        var body = await response.Content.ReadAsStringAsync();
        var item = Assert.Single((await Json.ReadAsync(response)).GetProperty("items").EnumerateArray());
        Assert.Equal(id, item.GetProperty("id").GetGuid());
        Assert.Equal("github:octocat", item.GetProperty("owner").GetString());
        Assert.False(item.GetProperty("revoked").GetBoolean());
        Assert.False(item.TryGetProperty("lastUsedAt", out _)); // nulls are left out of every answer
        Assert.DoesNotContain(key, body, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKeyStore.HashHex(key)[..12], body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RotateKey_OldSecretWorksDuringGrace_ThenRefused_OnBothInstances()
    {
        await using var setup = await Setup.StartAsync(postgres);
        var (id, oldKey) = await setup.IssueAsync("github:octocat");

        using var rotated = await Json.PostAsync(setup.Admin, $"/admin/keys/{id}/rotate", new { });
        var result = await Json.ReadAsync(rotated);
        var newKey = result.GetProperty("apiKey").GetString()!;

        Assert.Equal("no-store", rotated.Headers.CacheControl?.ToString());
        Assert.Equal(id, result.GetProperty("id").GetGuid());
        Assert.Equal(setup.Clock.GetUtcNow().AddMinutes(5), result.GetProperty("previousSecretValidUntil").GetDateTimeOffset());
        Assert.NotEqual(oldKey, newKey);
        Assert.Equal(HttpStatusCode.Accepted, await Setup.WriteAsync(setup.First, oldKey));
        Assert.Equal(HttpStatusCode.Accepted, await Setup.WriteAsync(setup.Second, oldKey));
        Assert.Equal(HttpStatusCode.Accepted, await Setup.WriteAsync(setup.Second, newKey));

        setup.Clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));

        Assert.Equal(HttpStatusCode.Unauthorized, await Setup.WriteAsync(setup.First, oldKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await Setup.WriteAsync(setup.Second, oldKey));
        Assert.Equal(HttpStatusCode.Accepted, await Setup.WriteAsync(setup.First, newKey));
    }

    [Fact]
    public async Task RevokeKey_RefusedAtOnceOnBothInstances_AndNotRotatable()
    {
        await using var setup = await Setup.StartAsync(postgres);
        var (id, key) = await setup.IssueAsync("github:octocat");
        Assert.Equal(HttpStatusCode.Accepted, await Setup.WriteAsync(setup.Second, key));

        using var revoked = await Json.PostAsync(setup.Admin, $"/admin/keys/{id}/revoke", new { });
        using var again = await Json.PostAsync(setup.Admin, $"/admin/keys/{id}/revoke", new { });
        using var rotate = await Json.PostAsync(setup.Admin, $"/admin/keys/{id}/rotate", new { });

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await Setup.WriteAsync(setup.First, key));
        Assert.Equal(HttpStatusCode.Unauthorized, await Setup.WriteAsync(setup.Second, key));
        await Problem.AssertAsync(rotate, HttpStatusCode.Conflict, "ERR_INVALID_STATE");
        using var listed = await Json.GetAsync(setup.Admin, "/admin/keys");
        Assert.True(Assert.Single((await Json.ReadAsync(listed)).GetProperty("items").EnumerateArray()).GetProperty("revoked").GetBoolean());
    }

    [Fact]
    public async Task RotateOrRevoke_UnknownOrMalformedId_404Or422()
    {
        await using var setup = await Setup.StartAsync(postgres);

        using var unknownRotate = await Json.PostAsync(setup.Admin, $"/admin/keys/{Guid.NewGuid()}/rotate", new { });
        using var unknownRevoke = await Json.PostAsync(setup.Admin, $"/admin/keys/{Guid.NewGuid()}/revoke", new { });
        using var malformed = await Json.PostAsync(setup.Admin, "/admin/keys/not-a-uuid/revoke", new { });

        await Problem.AssertAsync(unknownRotate, HttpStatusCode.NotFound, "ERR_NOT_FOUND");
        await Problem.AssertAsync(unknownRevoke, HttpStatusCode.NotFound, "ERR_NOT_FOUND");
        await Problem.AssertAsync(malformed, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "id");
    }

    [Fact]
    public async Task Audit_CountsEachAuthenticatedRequestPerMinuteRouteAndStatus_AndStampsLastUsed()
    {
        await using var setup = await Setup.StartAsync(postgres);
        var (id, key) = await setup.IssueAsync("github:octocat");

        Assert.Equal(HttpStatusCode.Accepted, await Setup.WriteAsync(setup.First, key));
        Assert.Equal(HttpStatusCode.Accepted, await Setup.WriteAsync(setup.Second, key));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, await Setup.WriteAsync(setup.First, key, topic: string.Empty));
        Assert.Equal(HttpStatusCode.Unauthorized, await Setup.WriteAsync(setup.First, "rk_unknown-key-0000000000"));

        using var usage = await Json.GetAsync(setup.Admin, $"/admin/usage?keyId={id}");
        var body = await usage.Content.ReadAsStringAsync();
        var rows = (await Json.ReadAsync(usage)).EnumerateArray().ToList();

        Assert.Equal(2, rows.Count);
        var accepted = Assert.Single(rows, static r => r.GetProperty("status").GetInt32() == 202);
        Assert.Equal(2, accepted.GetProperty("count").GetInt64());
        Assert.Equal("POST", accepted.GetProperty("method").GetString());
        Assert.StartsWith("/api/tasks", accepted.GetProperty("path").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, Assert.Single(rows, static r => r.GetProperty("status").GetInt32() == 422).GetProperty("count").GetInt64());
        Assert.DoesNotContain(key, body, StringComparison.Ordinal);
        using var listed = await Json.GetAsync(setup.Admin, "/admin/keys");
        Assert.Equal(setup.Clock.GetUtcNow(), Assert.Single((await Json.ReadAsync(listed)).GetProperty("items").EnumerateArray()).GetProperty("lastUsedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task Usage_BadLimit_422NamingIt()
    {
        await using var setup = await Setup.StartAsync(postgres);

        using var response = await Json.GetAsync(setup.Admin, "/admin/usage?limit=0");

        await Problem.AssertAsync(response, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "limit");
    }

    /// <summary>Two instances on one database and one fake clock, and an admin client on the first.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private Setup(ContentServiceFactory first, ContentServiceFactory second, FakeTimeProvider clock)
        {
            First = first;
            Second = second;
            Clock = clock;
            Admin = first.CreateClient();
            Admin.DefaultRequestHeaders.Add(AdminKeyFilter.HeaderName, AdminKey);
        }

        public ContentServiceFactory First { get; }

        public ContentServiceFactory Second { get; }

        public FakeTimeProvider Clock { get; }

        public HttpClient Admin { get; }

        public static async Task<Setup> StartAsync(PostgresFixture postgres)
        {
            var database = await TestDatabase.CreateAsync(postgres.ConnectionString);
            var clock = new FakeTimeProvider(new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero));
            var settings = new Dictionary<string, string?>
            {
                ["Executor:Workers"] = "0",
                ["Security:AdminKey"] = AdminKey,
                ["Security:RotationGracePeriod"] = "00:05:00",
            };
            ContentServiceFactory Start() => new(database, settings: settings) { ConfigureTestServices = services => services.AddSingleton<TimeProvider>(clock) };
            return new Setup(Start(), Start(), clock);
        }

        public async Task<(Guid Id, string Key)> IssueAsync(string owner) =>
            await First.Services.GetRequiredService<ApiKeyStore>().IssueAsync(owner, null, null, CancellationToken.None);

        public static async Task<HttpStatusCode> WriteAsync(ContentServiceFactory instance, string key, string topic = "key admin")
        {
            using var client = instance.CreateClient();
            client.DefaultRequestHeaders.Add(ApiKeyIdentityFeature.HeaderName, key);
            using var response = await Json.PostAsync(client, "/api/tasks", new { topic, complexity = "low" });
            return response.StatusCode;
        }

        public async ValueTask DisposeAsync()
        {
            Admin.Dispose();
            await First.DisposeAsync();
            await Second.DisposeAsync();
        }
    }
}
