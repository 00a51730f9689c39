using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FakeProviders.OAuth;

/// <summary>
/// A GitHub-like OAuth authorization server: authorize (approves at once, as a signed-in user who clicks "Authorize"
/// would), token exchange (codes single use, 10 minutes, bound to client and redirect URI; tokens that expire, each
/// with a refresh token that is single use and bound to the client, as GitHub's expiring user tokens), user.
/// Clients come from configuration (<c>OAuth:ClientId</c> + <c>OAuth:ClientSecret</c>, as the content service reads
/// them) or are registered at run time with <c>PUT /oauth/clients/{id}</c>. The token endpoint honours the fault board
/// (target <c>oauth</c>), so a sign-in can meet a failing provider.
/// </summary>
internal static class GitHubStandIn
{
    private static readonly TimeSpan CodeLifetime = TimeSpan.FromMinutes(10);

    // GitHub's refresh tokens live six months.
    private static readonly TimeSpan RefreshTokenLifetime = TimeSpan.FromDays(183);

    public static IEndpointRouteBuilder MapGitHubStandIn(this IEndpointRouteBuilder endpoints)
    {
        var configuration = endpoints.ServiceProvider.GetRequiredService<IConfiguration>();
        var server = new AuthorizationServer(TimeProvider.System);
        if (configuration["OAuth:ClientId"] is { Length: > 0 } id && configuration["OAuth:ClientSecret"] is { Length: > 0 } secret)
        {
            var lifetime = configuration.GetValue("OAuth:TokenLifetimeSeconds", 8 * 3600);
            server.Register(id, new OAuthClient(secret, lifetime));
        }

        var group = endpoints.MapGroup("/oauth");

        // Run-time registration, like the fault controls: the secret and how long its tokens live (0 or less: already expired).
        group.MapPut("/clients/{clientId}", async (string clientId, HttpContext http) =>
        {
            var client = await JsonSerializer.DeserializeAsync(http.Request.Body, OAuthJsonContext.Default.OAuthClient, http.RequestAborted);
            if (client is null || string.IsNullOrEmpty(client.Secret))
            {
                return Results.Json(new OAuthError("invalid_request", "secret is required"), OAuthJsonContext.Default.OAuthError, statusCode: 422);
            }

            server.Register(clientId, client);
            return Results.NoContent();
        });

        // GET /oauth/authorize?client_id&redirect_uri&state[&login][&deny=true] → 302 to redirect_uri with code and state.
        group.MapGet("/authorize", (HttpContext http) =>
        {
            var query = http.Request.Query;
            string clientId = query["client_id"].ToString(), redirectUri = query["redirect_uri"].ToString(), state = query["state"].ToString();
            if (!server.IsKnown(clientId))
            {
                return Results.Json(new OAuthError("invalid_client", "unknown client_id"), OAuthJsonContext.Default.OAuthError, statusCode: 400);
            }

            if (!Uri.TryCreate(redirectUri, UriKind.Absolute, out var redirect) || redirect.Scheme is not ("http" or "https"))
            {
                return Results.Json(new OAuthError("invalid_request", "redirect_uri must be an absolute http(s) URL"), OAuthJsonContext.Default.OAuthError, statusCode: 400);
            }

            if (query["deny"] == "true")
            {
                return Results.Redirect(WithQuery(redirect, ("error", "access_denied"), ("state", state)));
            }

            var login = query["login"] is { Count: > 0 } l && l.ToString().Length > 0 ? l.ToString() : "octocat";
            var code = server.IssueCode(clientId, redirectUri, login, CodeLifetime);
            return Results.Redirect(WithQuery(redirect, ("code", code), ("state", state)));
        });

        // POST /oauth/access_token (form: client_id, client_secret, code, redirect_uri) → JSON token with expires_in.
        group.MapPost("/access_token", async (HttpContext http, FaultBoard faults) =>
        {
            if (await faults.InjectAsync("oauth", http) is { } fault)
            {
                return fault;
            }

            if (!http.Request.HasFormContentType)
            {
                return Results.Json(new OAuthError("invalid_request", "send application/x-www-form-urlencoded"), OAuthJsonContext.Default.OAuthError, statusCode: 400);
            }

            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var result = form["grant_type"] == "refresh_token"
                ? server.Refresh(form["client_id"].ToString(), form["client_secret"].ToString(), form["refresh_token"].ToString())
                : server.Exchange(form["client_id"].ToString(), form["client_secret"].ToString(), form["code"].ToString(), form["redirect_uri"].ToString());
            return result.Token is { } token
                ? Results.Json(token, OAuthJsonContext.Default.OAuthToken)
                : Results.Json(result.Error!, OAuthJsonContext.Default.OAuthError, statusCode: result.Error!.Error == "invalid_client" ? 401 : 400);
        });

        // GET /oauth/user with "Authorization: Bearer <token>" → the user; 401 for an unknown or expired token.
        group.MapGet("/user", (HttpContext http) =>
        {
            var header = http.Request.Headers.Authorization.ToString();
            const string scheme = "Bearer ";
            var user = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? server.UserOf(header[scheme.Length..].Trim()) : null;
            return user is null
                ? Results.Json(new OAuthError("bad_credentials", "the token is unknown or expired"), OAuthJsonContext.Default.OAuthError, statusCode: 401)
                : Results.Json(user, OAuthJsonContext.Default.OAuthUser);
        });
        return endpoints;
    }

    private static string WithQuery(Uri target, params (string Key, string Value)[] parameters)
    {
        var builder = new UriBuilder(target);
        var query = builder.Query.TrimStart('?');
        foreach (var (key, value) in parameters)
        {
            query += (query.Length > 0 ? "&" : string.Empty) + Uri.EscapeDataString(key) + "=" + Uri.EscapeDataString(value);
        }

        builder.Query = query;
        return builder.Uri.AbsoluteUri;
    }

    /// <summary>The server's state: clients, outstanding codes and issued tokens, in memory.</summary>
    private sealed class AuthorizationServer(TimeProvider time)
    {
        private readonly ConcurrentDictionary<string, OAuthClient> _clients = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, Grant> _codes = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, (string Login, DateTimeOffset ExpiresAt)> _tokens = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, (string ClientId, string Login, DateTimeOffset ExpiresAt)> _refreshTokens = new(StringComparer.Ordinal);

        public void Register(string clientId, OAuthClient client) => _clients[clientId] = client;

        public bool IsKnown(string clientId) => _clients.ContainsKey(clientId);

        public string IssueCode(string clientId, string redirectUri, string login, TimeSpan lifetime)
        {
            var code = RandomToken();
            _codes[code] = new Grant(clientId, redirectUri, login, time.GetUtcNow() + lifetime);
            return code;
        }

        public (OAuthToken? Token, OAuthError? Error) Exchange(string clientId, string secret, string code, string redirectUri)
        {
            if (!_clients.TryGetValue(clientId, out var client)
                || !CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(client.Secret)))
            {
                return (null, new OAuthError("invalid_client", "unknown client or wrong secret"));
            }

            // Removing the code makes it single use, whatever happens next.
            if (!_codes.TryRemove(code, out var grant) || grant.ExpiresAt <= time.GetUtcNow())
            {
                return (null, new OAuthError("bad_verification_code", "the code is incorrect, used or expired"));
            }

            if (grant.ClientId != clientId || grant.RedirectUri != redirectUri)
            {
                return (null, new OAuthError("redirect_uri_mismatch", "the code was issued to another client or redirect_uri"));
            }

            return (Issue(clientId, client, grant.Login), null);
        }

        public (OAuthToken? Token, OAuthError? Error) Refresh(string clientId, string secret, string refreshToken)
        {
            if (!_clients.TryGetValue(clientId, out var client)
                || !CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(client.Secret)))
            {
                return (null, new OAuthError("invalid_client", "unknown client or wrong secret"));
            }

            // Removing it makes a refresh token single use, as GitHub rotates them.
            if (!_refreshTokens.TryRemove(refreshToken, out var issued) || issued.ExpiresAt <= time.GetUtcNow() || issued.ClientId != clientId)
            {
                return (null, new OAuthError("bad_refresh_token", "the refresh token is incorrect, used or expired"));
            }

            return (Issue(clientId, client, issued.Login), null);
        }

        private OAuthToken Issue(string clientId, OAuthClient client, string login)
        {
            var token = "gho_" + RandomToken();
            var refresh = "ghr_" + RandomToken();
            _tokens[token] = (login, time.GetUtcNow().AddSeconds(client.TokenLifetimeSeconds));
            _refreshTokens[refresh] = (clientId, login, time.GetUtcNow() + RefreshTokenLifetime);
            return new OAuthToken(token, "bearer", "read:user", client.TokenLifetimeSeconds, refresh, (int)RefreshTokenLifetime.TotalSeconds);
        }

        public OAuthUser? UserOf(string token) =>
            _tokens.TryGetValue(token, out var issued) && issued.ExpiresAt > time.GetUtcNow()
                ? new OAuthUser(StableId(issued.Login), issued.Login, issued.Login)
                : null;

        // The same login always gets the same id, across restarts, like a real account.
        private static long StableId(string login) =>
            (long)(BitConverter.ToUInt64(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(login)), 0) >> 12);

        private static string RandomToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

        private sealed record Grant(string ClientId, string RedirectUri, string Login, DateTimeOffset ExpiresAt);
    }
}

/// <summary>A registered client: its secret and how long its tokens live.</summary>
internal sealed record OAuthClient(string Secret, int TokenLifetimeSeconds = 8 * 3600);

/// <summary>The token response (RFC 6749 §5.1).</summary>
internal sealed record OAuthToken(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("scope")] string Scope,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("refresh_token")] string RefreshToken,
    [property: JsonPropertyName("refresh_token_expires_in")] int RefreshTokenExpiresIn);

/// <summary>An error response (RFC 6749 §5.2).</summary>
internal sealed record OAuthError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string Description);

/// <summary>The signed-in user, as GitHub's <c>/user</c> names the fields.</summary>
internal sealed record OAuthUser(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("login")] string Login,
    [property: JsonPropertyName("name")] string Name);

[JsonSerializable(typeof(OAuthClient))]
[JsonSerializable(typeof(OAuthToken))]
[JsonSerializable(typeof(OAuthError))]
[JsonSerializable(typeof(OAuthUser))]
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
internal sealed partial class OAuthJsonContext : JsonSerializerContext;
