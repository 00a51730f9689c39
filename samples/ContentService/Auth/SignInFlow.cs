using System.Security.Cryptography;
using System.Text;
using ContentService.Errors;
using ContentService.Security;
using Microsoft.Extensions.Options;

namespace ContentService.Auth;

/// <summary>
/// The authorization-code flow: <see cref="StartAsync"/> issues a random <c>state</c> (stored by hash in PostgreSQL,
/// bound to the browser by a cookie) and redirects to the provider; <see cref="CompleteAsync"/> checks the state
/// (present, this browser's, issued here, unused, fresh — then used), exchanges the code, reads the user and issues
/// an API key that expires no later than the provider's token.
/// </summary>
internal sealed partial class SignInFlow(
    IOptions<OAuthOptions> options,
    OAuthStateStore states,
    OAuthProviderClient provider,
    ApiKeyStore apiKeys,
    IOptions<SecurityOptions> security,
    TimeProvider time,
    ILogger<SignInFlow> logger)
{
    public const string StateCookie = "content_oauth_state";
    public const string CallbackPath = "/auth/callback";

    public async Task<IResult> StartAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var o = RequireEnabled();
        var state = Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        await states.IssueAsync(Hash(state), now, now + o.StateLifetime, cancellationToken);

        http.Response.Cookies.Append(StateCookie, state, new CookieOptions
        {
            HttpOnly = true,
            Secure = http.Request.IsHttps,
            SameSite = SameSiteMode.Lax, // sent on the provider's top-level redirect back, not on cross-site subrequests
            Path = "/auth",
            MaxAge = o.StateLifetime,
        });
        var query = new Dictionary<string, string?>
        {
            ["client_id"] = o.ClientId,
            ["redirect_uri"] = CallbackUrl(http),
            ["state"] = state,
            ["scope"] = "read:user",
        };
        if (http.Request.Query["login"] is { Count: 1 } login)
        {
            query["login"] = login.ToString(); // the fake provider's "which account"; a real provider ignores it
        }

        return Results.Redirect(Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(o.AuthorizeUrl!.AbsoluteUri, query));
    }

    public async Task<IResult> CompleteAsync(HttpContext http, CancellationToken cancellationToken)
    {
        var o = RequireEnabled();
        var query = http.Request.Query;
        var state = query["state"].ToString();
        if (state.Length == 0)
        {
            throw Rejected(SignInErrorIds.StateMissing, "The callback has no state: start the sign-in again.");
        }

        // The state must be the one this browser was given (login CSRF), then one this service issued and has not seen back.
        var expected = http.Request.Cookies[StateCookie];
        http.Response.Cookies.Delete(StateCookie, new CookieOptions { Path = "/auth" });
        if (expected is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(state), Encoding.UTF8.GetBytes(expected)))
        {
            throw Rejected(SignInErrorIds.StateMismatch, "The callback's state is not the one this browser was given: start the sign-in again.");
        }

        var check = await states.ConsumeAsync(Hash(state), time.GetUtcNow(), cancellationToken);
        switch (check)
        {
            case StateCheck.Unknown:
                throw Rejected(SignInErrorIds.StateMismatch, "The callback's state was not issued by this service: start the sign-in again.");
            case StateCheck.Replayed:
                throw Rejected(SignInErrorIds.StateReplayed, "This sign-in callback was already used: start the sign-in again.");
            case StateCheck.Expired:
                throw Rejected(SignInErrorIds.StateExpired, $"The sign-in took longer than {o.StateLifetime.TotalMinutes:0} minutes: start it again.");
        }

        if (query["error"] is { Count: > 0 } error)
        {
            throw new ApiException(StatusCodes.Status403Forbidden, SignInErrorIds.Denied, $"The provider did not authorize the sign-in ({Truncate(error.ToString())}).");
        }

        var code = query["code"].ToString();
        if (code.Length == 0)
        {
            throw ApiException.Validation("code", "The callback has no authorization code.");
        }

        var token = await provider.ExchangeCodeAsync(code, CallbackUrl(http), cancellationToken);
        var now = time.GetUtcNow();
        if (token.ExpiresIn is <= 0)
        {
            throw new ApiException(StatusCodes.Status401Unauthorized, SignInErrorIds.TokenExpired, "The provider issued an expired token; sign in again.");
        }

        var user = await provider.GetUserAsync(token.AccessToken, cancellationToken);
        var expiresAt = KeyExpiry(o, token, now);
        var owner = "github:" + user.Login;

        // Only the refresh token's hash is kept: the client holds the token and presents it to refresh.
        var (_, key) = await apiKeys.IssueAsync(owner, expiresAt, token.RefreshToken is { Length: > 0 } r ? Hash(r) : null, cancellationToken);
        var keyId = ApiKeyStore.KeyIdOf(key);
        LogSignedIn(logger, owner, keyId, expiresAt);
        http.Response.Headers.CacheControl = "no-store";
        return Results.Ok(new SignInResult(owner, key, expiresAt, ApiKeyIdentityFeature.HeaderName, token.RefreshToken));
    }

    /// <summary>
    /// Trades the refresh token handed out at sign-in for a new key secret with a new expiry (the same key id, so the
    /// audit and an operator's revocation follow it) and a new refresh token. A revoked key is never refreshed.
    /// </summary>
    public async Task<IResult> RefreshAsync(HttpContext http, RefreshRequest? request, CancellationToken cancellationToken)
    {
        var o = RequireEnabled();
        if (request?.RefreshToken is not { Length: > 0 and <= 512 } refreshToken)
        {
            throw ApiException.Validation("refreshToken", "refreshToken is required (at most 512 characters): the one the sign-in or the last refresh returned.");
        }

        // Ours first: an unknown token or a revoked key never reaches the provider.
        var hash = Hash(refreshToken);
        var id = await apiKeys.FindByRefreshHashAsync(hash, cancellationToken) ?? throw OAuthProviderClient.RefreshRejected();
        var token = await provider.RefreshAsync(refreshToken, cancellationToken);
        if (token.ExpiresIn is <= 0)
        {
            throw new ApiException(StatusCodes.Status401Unauthorized, SignInErrorIds.TokenExpired, "The provider issued an expired token; sign in again.");
        }

        var user = await provider.GetUserAsync(token.AccessToken, cancellationToken);
        var expiresAt = KeyExpiry(o, token, time.GetUtcNow());
        var (rotated, _) = await apiKeys.RotateAsync(id, security.Value.RotationGracePeriod, cancellationToken,
            expectedRefreshHash: hash, newExpiresAt: expiresAt, newRefreshHash: token.RefreshToken is { Length: > 0 } r ? Hash(r) : null);

        // Revoked, or refreshed by someone else meanwhile; and the provider must still say it is the same user.
        if (rotated is null || rotated.Owner != "github:" + user.Login)
        {
            throw OAuthProviderClient.RefreshRejected();
        }

        LogRefreshed(logger, rotated.Owner, rotated.Id, expiresAt);
        http.Response.Headers.CacheControl = "no-store";
        return Results.Ok(new SignInResult(rotated.Owner, rotated.ApiKey, expiresAt, ApiKeyIdentityFeature.HeaderName, token.RefreshToken));
    }

    // The key may not outlive the provider's token (a token without expiry is capped by MaxKeyLifetime alone).
    private static DateTimeOffset KeyExpiry(OAuthOptions o, ProviderToken token, DateTimeOffset now)
    {
        var expiresAt = now + o.MaxKeyLifetime;
        return token.ExpiresIn is { } seconds && now.AddSeconds(seconds) < expiresAt ? now.AddSeconds(seconds) : expiresAt;
    }

    private static ApiException Rejected(string errorId, string message) => new(StatusCodes.Status400BadRequest, errorId, message);

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64];

    private static string CallbackUrl(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{CallbackPath}";

    private static byte[] Hash(string state) => SHA256.HashData(Encoding.UTF8.GetBytes(state));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private OAuthOptions RequireEnabled()
    {
        var o = options.Value;
        return o.IsEnabled
            ? o
            : throw new ApiException(StatusCodes.Status503ServiceUnavailable, SignInErrorIds.NotConfigured,
                "Sign-in is not configured: set OAuth__ClientId and OAuth__ClientSecret.");
    }

    [LoggerMessage(EventId = 1405, Level = LogLevel.Information, Message = "Refreshed {Owner}: API key {IssuedKeyId} has a new secret, expires {ExpiresAt}")]
    private static partial void LogRefreshed(ILogger logger, string owner, Guid issuedKeyId, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Information, Message = "Signed in {Owner}: API key {KeyId} issued, expires {ExpiresAt}")]
    private static partial void LogSignedIn(ILogger logger, string owner, string keyId, DateTimeOffset expiresAt);
}

/// <summary>
/// The answer to a completed sign-in or refresh: the API key and refresh token are shown this once. Refresh before
/// <see cref="ExpiresAt"/> with <c>POST /auth/refresh</c>; <see cref="RefreshToken"/> is null when the provider's token does not expire.
/// </summary>
internal sealed record SignInResult(string Owner, string ApiKey, DateTimeOffset ExpiresAt, string Header, string? RefreshToken = null);

/// <summary>The body of <c>POST /auth/refresh</c>.</summary>
internal sealed record RefreshRequest(string? RefreshToken);
