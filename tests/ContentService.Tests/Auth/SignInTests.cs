using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ContentService.Auth;
using ContentService.Security;
using ContentService.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Testing;

namespace ContentService.Tests.Auth;

/// <summary>The OAuth sign-in against the real fake provider on loopback, with the state kept in the real database.</summary>
public sealed class SignInTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string ClientId = "content-service-tests";
    private static readonly string ClientSecret = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    [Fact]
    public async Task SignIn_HappyPath_IssuesApiKeyThatWritesAndExpiresWithTheProviderToken()
    {
        await using var setup = await SignInSetup.StartAsync(postgres, tokenLifetimeSeconds: 3600);
        var before = DateTimeOffset.UtcNow;

        using var callback = await setup.CompleteAsync(await setup.AuthorizeAsync());

        Assert.Equal(HttpStatusCode.OK, callback.StatusCode);
        Assert.Equal("no-store", callback.Headers.CacheControl?.ToString());
        var result = JsonDocument.Parse(await callback.Content.ReadAsStringAsync()).RootElement;
        var key = result.GetProperty("apiKey").GetString()!;
        Assert.Equal("github:octocat", result.GetProperty("owner").GetString());
        Assert.Equal("X-Api-Key", result.GetProperty("header").GetString());
        Assert.InRange(result.GetProperty("expiresAt").GetDateTimeOffset(), before.AddSeconds(3600), DateTimeOffset.UtcNow.AddSeconds(3600));
        var identity = await setup.Service.Services.GetRequiredService<ApiKeyStore>().ValidateAsync(key, CancellationToken.None);
        Assert.Equal("github:octocat", identity?.Owner);
        using var writer = setup.Service.CreateClient();
        writer.DefaultRequestHeaders.Add("X-Api-Key", key);
        using var created = await writer.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { topic = "signed in", complexity = "low" });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        Assert.Equal(1L, await setup.ScalarAsync("SELECT count(*) FROM oauth_states WHERE used_at IS NOT NULL"));
    }

    /// <summary>Regression: the key issued at sign-in expired with the provider's token and the session just ended.</summary>
    [Fact]
    public async Task Refresh_BeforeTheKeyExpires_NewSecretAndExpiry_OldSecretOnlyDuringGrace()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero));
        await using var setup = await SignInSetup.StartAsync(postgres, clock, 3600, ("Security:RotationGracePeriod", "00:01:00"));
        using var callback = await setup.CompleteAsync(await setup.AuthorizeAsync());
        var signedIn = await Json.ReadAsync(callback);
        var key = signedIn.GetProperty("apiKey").GetString()!;
        var refreshToken = signedIn.GetProperty("refreshToken").GetString()!;

        clock.Advance(TimeSpan.FromMinutes(55));
        using var refreshed = await setup.RefreshAsync(refreshToken);
        var result = await Json.ReadAsync(refreshed);
        var newKey = result.GetProperty("apiKey").GetString()!;
        var newRefreshToken = result.GetProperty("refreshToken").GetString()!;

        Assert.Equal("no-store", refreshed.Headers.CacheControl?.ToString());
        Assert.Equal(clock.GetUtcNow().AddSeconds(3600), result.GetProperty("expiresAt").GetDateTimeOffset());
        Assert.Equal("github:octocat", result.GetProperty("owner").GetString());
        Assert.NotEqual(key, newKey);
        Assert.NotEqual(refreshToken, newRefreshToken);
        Assert.Equal(HttpStatusCode.Accepted, await setup.WriteAsync(key));

        // Past the first token's expiry: the session goes on with the refreshed key; the old secret is gone.
        clock.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(HttpStatusCode.Unauthorized, await setup.WriteAsync(key));
        Assert.Equal(HttpStatusCode.Accepted, await setup.WriteAsync(newKey));
        Assert.Equal(1L, await setup.ScalarAsync("SELECT count(*) FROM api_keys"));
        using var reused = await setup.RefreshAsync(refreshToken);
        await Problem.AssertAsync(reused, HttpStatusCode.Unauthorized, SignInErrorIds.RefreshRejected);
        using var again = await setup.RefreshAsync(newRefreshToken);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task Refresh_RevokedKey_401RefreshRejected()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);
        using var callback = await setup.CompleteAsync(await setup.AuthorizeAsync());
        var refreshToken = (await Json.ReadAsync(callback)).GetProperty("refreshToken").GetString()!;
        var id = (Guid)(await setup.ScalarAsync("SELECT id FROM api_keys"))!;
        Assert.True(await setup.Service.Services.GetRequiredService<ApiKeyStore>().RevokeAsync(id, CancellationToken.None));

        using var response = await setup.RefreshAsync(refreshToken);

        await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, SignInErrorIds.RefreshRejected);
    }

    [Fact]
    public async Task Refresh_UnknownOrMissingToken_401Or422()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);

        using var unknown = await setup.RefreshAsync("ghr_not-a-refresh-token");
        using var missing = await setup.Browser.PostAsJsonAsync(new Uri("/auth/refresh", UriKind.Relative), new { });

        await Problem.AssertAsync(unknown, HttpStatusCode.Unauthorized, SignInErrorIds.RefreshRejected);
        await Problem.AssertAsync(missing, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "refreshToken");
    }

    [Fact]
    public async Task SignIn_TokenLifetimeBeyondMaxKeyLifetime_KeyCappedAtMaxKeyLifetime()
    {
        await using var setup = await SignInSetup.StartAsync(postgres, tokenLifetimeSeconds: 30 * 24 * 3600, ("OAuth:MaxKeyLifetime", "01:00:00"));
        var before = DateTimeOffset.UtcNow;

        using var callback = await setup.CompleteAsync(await setup.AuthorizeAsync());

        Assert.Equal(HttpStatusCode.OK, callback.StatusCode);
        var expiresAt = JsonDocument.Parse(await callback.Content.ReadAsStringAsync()).RootElement.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expiresAt, before.AddHours(1), DateTimeOffset.UtcNow.AddHours(1));
    }

    [Fact]
    public async Task Start_RedirectsToProviderWithFreshStateBoundToTheBrowser()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);

        using var first = await setup.Browser.GetAsync(new Uri("/auth/signin", UriKind.Relative));
        using var second = await setup.Browser.GetAsync(new Uri("/auth/signin", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        var location = first.Headers.Location!;
        Assert.StartsWith(new Uri(setup.Providers.BaseAddress, "oauth/authorize").AbsoluteUri, location.AbsoluteUri, StringComparison.Ordinal);
        var state = Query(location, "state");
        Assert.Equal(43, state.Length); // 32 random bytes, base64url
        Assert.NotEqual(state, Query(second.Headers.Location!, "state"));
        Assert.Equal(ClientId, Query(location, "client_id"));
        Assert.Contains(first.Headers.GetValues("Set-Cookie"), static c => c.StartsWith(SignInFlow.StateCookie + "=", StringComparison.Ordinal) && c.Contains("httponly", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(2L, await setup.ScalarAsync("SELECT count(*) FROM oauth_states WHERE used_at IS NULL AND expires_at > now() + interval '9 minutes'"));
        // Stored by hash only (the state is base64url: nothing to escape).
        Assert.Equal(1L, await setup.ScalarAsync($"SELECT count(*) FROM oauth_states WHERE state_hash = sha256(convert_to('{state}', 'UTF8'))"));
    }

    [Fact]
    public async Task Callback_StateMissing_400WithErrorId()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);
        var callback = await setup.AuthorizeAsync();

        using var response = await setup.Browser.GetAsync(new Uri($"/auth/callback?code={Query(callback, "code")}", UriKind.Relative));

        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, SignInErrorIds.StateMissing);
    }

    [Fact]
    public async Task Callback_StateNotTheOneThisBrowserWasGiven_400Mismatch_AndStateStaysUnused()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);
        var callback = await setup.AuthorizeAsync();

        // Another browser (no cookie) presents a valid callback: the login-CSRF case.
        using var otherBrowser = setup.Service.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var response = await otherBrowser.GetAsync(new Uri(callback.PathAndQuery, UriKind.Relative));

        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, SignInErrorIds.StateMismatch);
        Assert.Equal(0L, await setup.ScalarAsync("SELECT count(*) FROM oauth_states WHERE used_at IS NOT NULL"));
    }

    [Fact]
    public async Task Callback_StateNeverIssued_400Mismatch()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);
        const string forged = "forged-state-value";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/auth/callback?code=abc&state={forged}", UriKind.Relative));
        request.Headers.Add("Cookie", $"{SignInFlow.StateCookie}={forged}");

        using var response = await setup.Service.CreateClient().SendAsync(request);

        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, SignInErrorIds.StateMismatch);
    }

    [Fact]
    public async Task Callback_Replayed_400Replayed_AndNoSecondKey()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);
        var callback = await setup.AuthorizeAsync();
        var cookie = setup.StateCookie();
        using var first = await setup.CompleteAsync(callback);

        using var replay = new HttpRequestMessage(HttpMethod.Get, new Uri(callback.PathAndQuery, UriKind.Relative));
        replay.Headers.Add("Cookie", cookie);
        using var response = await setup.Service.CreateClient().SendAsync(replay);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, SignInErrorIds.StateReplayed);
        Assert.Equal(1L, await setup.ScalarAsync("SELECT count(*) FROM api_keys WHERE owner = 'github:octocat'"));
    }

    [Fact]
    public async Task Callback_ConcurrentReplays_ExactlyOneSucceeds()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);
        var callback = await setup.AuthorizeAsync();
        var cookie = setup.StateCookie();

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(callback.PathAndQuery, UriKind.Relative));
            request.Headers.Add("Cookie", cookie);
            using var client = setup.Service.CreateClient();
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }));

        Assert.Single(responses, static s => s == HttpStatusCode.OK);
        Assert.Equal(3, responses.Count(static s => s == HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Callback_AfterTheStateExpired_400Expired()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var setup = await SignInSetup.StartAsync(postgres, clock: clock);
        var callback = await setup.AuthorizeAsync();

        clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        using var response = await setup.Browser.GetAsync(new Uri(callback.PathAndQuery, UriKind.Relative));

        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, SignInErrorIds.StateExpired);
    }

    [Fact]
    public async Task Callback_JustBeforeTheStateExpires_Succeeds()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var setup = await SignInSetup.StartAsync(postgres, clock: clock);
        var callback = await setup.AuthorizeAsync();

        clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        using var response = await setup.CompleteAsync(callback);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Callback_UserDeniedAtTheProvider_403Denied()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);

        using var response = await setup.CompleteAsync(await setup.AuthorizeAsync("&deny=true"));

        await Problem.AssertAsync(response, HttpStatusCode.Forbidden, SignInErrorIds.Denied);
    }

    [Fact]
    public async Task Callback_CodeMissing_422NamingTheField()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);
        var callback = await setup.AuthorizeAsync();

        using var response = await setup.Browser.GetAsync(new Uri($"/auth/callback?state={Query(callback, "state")}", UriKind.Relative));

        await Problem.AssertAsync(response, HttpStatusCode.UnprocessableEntity, "ERR_VALIDATION", "code");
    }

    [Fact]
    public async Task Callback_CodeAlreadyExchanged_400CodeRejected()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);
        var used = await setup.AuthorizeAsync();
        using var first = await setup.CompleteAsync(used);
        var fresh = await setup.AuthorizeAsync();

        // A fresh state with a code the provider already redeemed.
        using var response = await setup.Browser.GetAsync(new Uri($"/auth/callback?code={Query(used, "code")}&state={Query(fresh, "state")}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest, SignInErrorIds.CodeRejected);
    }

    [Fact]
    public async Task Callback_TokenEndpointFailing_503WithRetryAfter_ThroughTheResilienceHandler()
    {
        await using var setup = await SignInSetup.StartAsync(postgres);
        await setup.Providers.SetFaultAsync("oauth", """{"errorRate":1,"errorStatus":503}""");

        using var response = await setup.CompleteAsync(await setup.AuthorizeAsync());

        await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "ERR_UPSTREAM_UNAVAILABLE");
        Assert.NotNull(response.Headers.RetryAfter);
        var breaker = OAuthProviderClient.ClientName + ":" + setup.Providers.BaseAddress.GetLeftPart(UriPartial.Authority);
        Assert.True(setup.Service.Services.GetRequiredService<CircuitBreakerRegistry>().TryGet(breaker, out var b) && b.GetSnapshot().Failures > 0);
        Assert.Equal(0L, await setup.ScalarAsync("SELECT count(*) FROM api_keys"));
    }

    [Fact]
    public async Task Callback_ProviderTokenAlreadyExpired_401TokenExpired_AndNoKey()
    {
        await using var setup = await SignInSetup.StartAsync(postgres, tokenLifetimeSeconds: 0);

        using var response = await setup.CompleteAsync(await setup.AuthorizeAsync());

        await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, SignInErrorIds.TokenExpired);
        Assert.Equal(0L, await setup.ScalarAsync("SELECT count(*) FROM api_keys"));
    }

    [Fact]
    public async Task SignIn_MoreThanThePermitsPerMinute_429WithRetryAfter()
    {
        await using var setup = await SignInSetup.StartAsync(postgres, settings: ("OAuth:PermitsPerMinute", "2"));

        using var first = await setup.Browser.GetAsync(new Uri("/auth/signin", UriKind.Relative));
        using var second = await setup.Browser.GetAsync(new Uri("/auth/signin", UriKind.Relative));
        using var third = await setup.Browser.GetAsync(new Uri("/auth/signin", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
        await Problem.AssertAsync(third, HttpStatusCode.TooManyRequests, "ERR_RATE_LIMITED");
        Assert.NotNull(third.Headers.RetryAfter);
    }

    [Fact]
    public async Task SignIn_NotConfigured_503NamingTheSettings()
    {
        await using var service = new ContentServiceFactory(await TestDatabase.CreateAsync(postgres.ConnectionString));
        using var client = service.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        using var response = await client.GetAsync(new Uri("/auth/signin", UriKind.Relative));

        var problem = await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, SignInErrorIds.NotConfigured);
        Assert.Contains("OAuth__ClientSecret", problem.GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_ClientIdWithoutSecret_FailsNamingTheMissingKey()
    {
        await using var service = new ContentServiceFactory(postgres.ConnectionString, settings: new Dictionary<string, string?> { ["OAuth:ClientId"] = ClientId });

        var error = Assert.Throws<OptionsValidationException>(() => service.CreateClient());

        Assert.Contains("OAuth:ClientSecret", error.Message, StringComparison.Ordinal);
    }

    private static string Query(Uri uri, string name) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(uri.Query)[name].ToString();

    /// <summary>The fake provider on loopback with this test's client registered, the service pointed at it, and a cookie-keeping "browser".</summary>
    private sealed class SignInSetup : IAsyncDisposable
    {
        private readonly string _database;
        private readonly CookieContainerHandler _cookies;

        private SignInSetup(FakeProvidersServer providers, ContentServiceFactory service, string database, CookieContainerHandler cookies)
        {
            Providers = providers;
            Service = service;
            _database = database;
            _cookies = cookies;
            Browser = service.CreateDefaultClient(cookies);
            ProviderBrowser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        }

        public FakeProvidersServer Providers { get; }

        public ContentServiceFactory Service { get; }

        /// <summary>The service as a browser sees it: cookies kept, redirects not followed.</summary>
        public HttpClient Browser { get; }

        private HttpClient ProviderBrowser { get; }

        public static async Task<SignInSetup> StartAsync(PostgresFixture postgres, int tokenLifetimeSeconds = 3600, params (string Key, string Value)[] settings) =>
            await StartAsync(postgres, null, tokenLifetimeSeconds, settings);

        public static async Task<SignInSetup> StartAsync(PostgresFixture postgres, FakeTimeProvider? clock, int tokenLifetimeSeconds = 3600, params (string Key, string Value)[] settings)
        {
            var providers = FakeProvidersServer.Start();
            using (var register = JsonContent.Create(new { secret = ClientSecret, tokenLifetimeSeconds }))
            using (var registered = await providers.Client.PutAsync(new Uri($"oauth/clients/{ClientId}", UriKind.Relative), register))
            {
                registered.EnsureSuccessStatusCode();
            }

            var database = await TestDatabase.CreateAsync(postgres.ConnectionString);
            var overrides = new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["OAuth:ClientId"] = ClientId,
                ["OAuth:ClientSecret"] = ClientSecret,
                ["OAuth:PermitsPerMinute"] = "1000",
            };
            foreach (var (key, value) in settings)
            {
                overrides[key] = value;
            }

            var service = new ContentServiceFactory(database, providers.BaseAddress, overrides)
            {
                ConfigureTestServices = clock is null ? null : services => services.AddSingleton<TimeProvider>(clock),
            };
            return new SignInSetup(providers, service, database, new CookieContainerHandler());
        }

        /// <summary>Starts the sign-in and lets the provider approve it: returns the callback URL the provider redirects to.</summary>
        public async Task<Uri> AuthorizeAsync(string providerQuery = "")
        {
            using var start = await Browser.GetAsync(new Uri("/auth/signin", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
            using var approve = await ProviderBrowser.GetAsync(new Uri(start.Headers.Location!.AbsoluteUri + providerQuery));
            Assert.Equal(HttpStatusCode.Redirect, approve.StatusCode);
            return approve.Headers.Location!;
        }

        /// <summary>Follows the provider's redirect back to the service, as the browser would.</summary>
        public Task<HttpResponseMessage> CompleteAsync(Uri callback) =>
            Browser.GetAsync(new Uri(callback.PathAndQuery, UriKind.Relative));

        public Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
            Browser.PostAsJsonAsync(new Uri("/auth/refresh", UriKind.Relative), new { refreshToken });

        /// <summary>Creates a task with <paramref name="key"/>; the status says whether the key was accepted.</summary>
        public async Task<HttpStatusCode> WriteAsync(string key)
        {
            using var client = Service.CreateClient();
            client.DefaultRequestHeaders.Add(ApiKeyIdentityFeature.HeaderName, key);
            using var response = await client.PostAsJsonAsync(new Uri("/api/tasks", UriKind.Relative), new { topic = "refresh", complexity = "low" });
            return response.StatusCode;
        }

        /// <summary>The state cookie as a Cookie header value (what an attacker replaying a callback would need).</summary>
        public string StateCookie() => _cookies.Container.GetCookieHeader(new Uri(Service.Server.BaseAddress, "/auth/"));

        public async Task<object?> ScalarAsync(string sql)
        {
            await using var dataSource = NpgsqlDataSource.Create(_database);
            await using var command = dataSource.CreateCommand(sql);
            return await command.ExecuteScalarAsync();
        }

        public async ValueTask DisposeAsync()
        {
            Browser.Dispose();
            ProviderBrowser.Dispose();
            _cookies.Dispose();
            await Service.DisposeAsync();
            await Providers.DisposeAsync();
        }
    }
}
