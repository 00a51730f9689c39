using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Serialization;
using ContentService.Errors;
using Microsoft.Extensions.Options;

namespace ContentService.Auth;

/// <summary>
/// The provider's token and user endpoints, through an <see cref="HttpClient"/> with the library's resilience handler
/// (timeouts, breaker, retries where safe). Failures become <see cref="ApiException"/>s with sign-in error IDs.
/// </summary>
internal sealed partial class OAuthProviderClient(HttpClient http, IOptions<OAuthOptions> options, ILogger<OAuthProviderClient> logger)
{
    /// <summary>The name of the HTTP client (and so of its breakers in the registry: <c>oauth-provider:{authority}</c>).</summary>
    public const string ClientName = "oauth-provider";

    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(5);

    public async Task<ProviderToken> ExchangeCodeAsync(string code, string redirectUri, CancellationToken cancellationToken)
    {
        var o = options.Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, o.TokenUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = o.ClientId!,
                ["client_secret"] = o.ClientSecret!,
                ["code"] = code,
                ["redirect_uri"] = redirectUri,
            }),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, SignInErrorIds.CodeRejected, "The provider did not accept the authorization code; sign in again.");
        }

        EnsureAvailable(response, "token");
        var token = await response.Content.ReadFromJsonAsync(ProviderJsonContext.Default.ProviderToken, cancellationToken);
        if (token is null || string.IsNullOrEmpty(token.AccessToken))
        {
            // GitHub answers some errors with 200 and an "error" field instead of a token.
            throw new ApiException(StatusCodes.Status400BadRequest, SignInErrorIds.CodeRejected, "The provider did not issue a token; sign in again.");
        }

        return token;
    }

    /// <summary>Trades a refresh token for a new token (and a new refresh token: the provider's are single use).</summary>
    public async Task<ProviderToken> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var o = options.Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, o.TokenUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = o.ClientId!,
                ["client_secret"] = o.ClientSecret!,
                ["grant_type"] = "refresh_token",
                ["refresh_token"] = refreshToken,
            }),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            throw RefreshRejected();
        }

        EnsureAvailable(response, "token");
        var token = await response.Content.ReadFromJsonAsync(ProviderJsonContext.Default.ProviderToken, cancellationToken);
        return token is { AccessToken.Length: > 0 } ? token : throw RefreshRejected();
    }

    public static ApiException RefreshRejected() =>
        new(StatusCodes.Status401Unauthorized, SignInErrorIds.RefreshRejected, "The refresh token is unknown, used, expired or its key revoked; sign in again.");

    public async Task<ProviderUser> GetUserAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, options.Value.UserUrl);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            throw new ApiException(StatusCodes.Status401Unauthorized, SignInErrorIds.TokenExpired, "The provider's token is expired or revoked; sign in again.");
        }

        EnsureAvailable(response, "user");
        var user = await response.Content.ReadFromJsonAsync(ProviderJsonContext.Default.ProviderUser, cancellationToken);
        return user is { Login.Length: > 0 } ? user : throw Unavailable("user", response.StatusCode, null);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw Unavailable(request.RequestUri!.AbsolutePath, null, e);
        }
    }

    private void EnsureAvailable(HttpResponseMessage response, string endpoint)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw Unavailable(endpoint, response.StatusCode, null, response.Headers.RetryAfter?.Delta);
        }
    }

    private ApiException Unavailable(string endpoint, HttpStatusCode? status, Exception? exception, TimeSpan? retryAfter = null)
    {
        // 401/403 from the token endpoint means our client id or secret is wrong: an operator's problem, said in the log.
        LogProviderFailed(logger, exception, endpoint, status is { } s ? (int)s : 0);
        return new ApiException(StatusCodes.Status503ServiceUnavailable, ServiceErrorIds.UpstreamUnavailable, "The sign-in provider is unavailable; try again later.")
        {
            RetryAfter = retryAfter ?? DefaultRetryAfter,
        };
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning, Message = "Sign-in provider call to {Endpoint} failed (status {Status}; 401/403 from the token endpoint: check OAuth:ClientId and OAuth:ClientSecret)")]
    private static partial void LogProviderFailed(ILogger logger, Exception? exception, string endpoint, int status);
}

/// <summary>The provider's token response; <see cref="ExpiresIn"/> and <see cref="RefreshToken"/> are absent for tokens that do not expire.</summary>
internal sealed record ProviderToken(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string? TokenType,
    [property: JsonPropertyName("expires_in")] int? ExpiresIn,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken = null);

/// <summary>The provider's user.</summary>
internal sealed record ProviderUser(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("login")] string Login);

[JsonSerializable(typeof(ProviderToken))]
[JsonSerializable(typeof(ProviderUser))]
internal sealed partial class ProviderJsonContext : JsonSerializerContext;
