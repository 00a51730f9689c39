using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ContentService.Auth;

/// <summary>Sign-in with a GitHub-like OAuth provider, bound from <c>OAuth</c>; the client id and secret come from the environment.</summary>
internal sealed class OAuthOptions
{
    public const string Section = "OAuth";

    /// <summary>The client id registered with the provider (<c>OAuth__ClientId</c>). Sign-in is off while neither it nor the secret is set.</summary>
    public string? ClientId { get; set; }

    /// <summary>The client secret (<c>OAuth__ClientSecret</c>): environment or user secrets only, never appsettings.json.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Where the user approves; default <c>{Providers:BaseUrl}oauth/authorize</c>.</summary>
    public Uri? AuthorizeUrl { get; set; }

    /// <summary>Where a code is exchanged for a token; default <c>{Providers:BaseUrl}oauth/access_token</c>.</summary>
    public Uri? TokenUrl { get; set; }

    /// <summary>Who the token belongs to; default <c>{Providers:BaseUrl}oauth/user</c>.</summary>
    public Uri? UserUrl { get; set; }

    /// <summary>How long a <c>state</c> may wait for its callback. Default 10 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan StateLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The longest an API key issued at sign-in lives; never longer than the provider's token. Default 12 hours.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan MaxKeyLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Sign-in requests (start and callback) one address may make per minute. Default 10.</summary>
    [Range(1, 10_000)]
    public int PermitsPerMinute { get; set; } = 10;

    public bool IsEnabled => !string.IsNullOrEmpty(ClientId) || !string.IsNullOrEmpty(ClientSecret);
}

/// <summary>Both or neither of the client id and secret; when sign-in is on, every provider URL resolvable.</summary>
internal sealed class OAuthOptionsValidator : IValidateOptions<OAuthOptions>
{
    public ValidateOptionsResult Validate(string? name, OAuthOptions options)
    {
        if (!options.IsEnabled)
        {
            return ValidateOptionsResult.Success;
        }

        var errors = new List<string>();
        if (string.IsNullOrEmpty(options.ClientId))
        {
            errors.Add("OAuth:ClientId is not set but OAuth:ClientSecret is: set both (environment OAuth__ClientId) or neither.");
        }

        if (string.IsNullOrEmpty(options.ClientSecret))
        {
            errors.Add("OAuth:ClientSecret is not set but OAuth:ClientId is: set both (environment OAuth__ClientSecret) or neither.");
        }

        foreach (var (key, url) in new[] { ("AuthorizeUrl", options.AuthorizeUrl), ("TokenUrl", options.TokenUrl), ("UserUrl", options.UserUrl) })
        {
            if (url is null || !url.IsAbsoluteUri)
            {
                errors.Add($"OAuth:{key} is not an absolute URL (set it, or Providers:BaseUrl for the fake provider).");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
