using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ContentService.Auth;

/// <summary>Registers and maps sign-in: <c>GET /auth/signin</c> and <c>GET /auth/callback</c>, rate limited per address.</summary>
internal static partial class SignInExtensions
{
    private const string RateLimitPolicy = "sign-in";

    public static IServiceCollection AddSignIn(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OAuthOptions>()
            .Bind(configuration.GetSection(OAuthOptions.Section))
            .PostConfigure(o => DefaultUrls(o, configuration["Providers:BaseUrl"]))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<OAuthOptions>, OAuthOptionsValidator>();
        services.AddSingleton<OAuthStateStore>();
        services.AddScoped<SignInFlow>();
        services.AddHttpClient<OAuthProviderClient>(OAuthProviderClient.ClientName)
            .AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:" + OAuthProviderClient.ClientName));

        // Stricter than the service-wide limit: sign-in is where guessing and flooding would happen.
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<OAuthOptions>>(static (limiter, oauth) =>
        {
            var permits = oauth.Value.PermitsPerMinute;
            limiter.AddPolicy(RateLimitPolicy, http => RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0, AutoReplenishment = true }));
        });
        return services;
    }

    public static WebApplication MapSignIn(this WebApplication app)
    {
        var o = app.Services.GetRequiredService<IOptions<OAuthOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SignInExtensions));
        if (o.IsEnabled)
        {
            var provider = o.AuthorizeUrl!.GetLeftPart(UriPartial.Authority);
            LogEnabled(logger, provider);
        }
        else
        {
            LogDisabled(logger);
        }

        var group = app.MapGroup("/auth").RequireRateLimiting(RateLimitPolicy).WithTags("Auth");
        group.MapGet("/signin", static (HttpContext http, SignInFlow flow, CancellationToken ct) => flow.StartAsync(http, ct));
        group.MapGet("/callback", static (HttpContext http, SignInFlow flow, CancellationToken ct) => flow.CompleteAsync(http, ct))
            .Produces<SignInResult>();

        // Before the key expires the client trades its refresh token for a fresh key (same key id; the previous secret
        // keeps working for the rotation grace period), instead of finding itself signed out.
        group.MapPost("/refresh", static (HttpContext http, RefreshRequest? request, SignInFlow flow, CancellationToken ct) => flow.RefreshAsync(http, request, ct))
            .Produces<SignInResult>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return app;
    }

    private static void DefaultUrls(OAuthOptions o, string? providersBaseUrl)
    {
        if (!Uri.TryCreate(providersBaseUrl, UriKind.Absolute, out var providers))
        {
            return;
        }

        var root = providers.AbsoluteUri.EndsWith('/') ? providers : new Uri(providers.AbsoluteUri + "/");
        o.AuthorizeUrl ??= new Uri(root, "oauth/authorize");
        o.TokenUrl ??= new Uri(root, "oauth/access_token");
        o.UserUrl ??= new Uri(root, "oauth/user");
    }

    [LoggerMessage(EventId = 1403, Level = LogLevel.Information, Message = "Sign-in enabled with the OAuth provider at {Provider}")]
    private static partial void LogEnabled(ILogger logger, string provider);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Information, Message = "Sign-in disabled: OAuth__ClientId and OAuth__ClientSecret are not set")]
    private static partial void LogDisabled(ILogger logger);
}
