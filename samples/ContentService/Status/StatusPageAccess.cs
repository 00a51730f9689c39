using System.Security.Cryptography;
using System.Text;
using ContentService.Errors;
using Microsoft.Extensions.Options;

namespace ContentService.Status;

/// <summary>
/// Lets the status page and its data through only with <see cref="StatusPageOptions.AccessKey"/>, when one is set: in the
/// <c>X-Status-Key</c> header, or in an HttpOnly cookie set by opening <c>/status?key=…</c> once (then redirected, so
/// the key leaves the address bar). Without a configured key the page is open, as before.
/// </summary>
internal sealed class StatusPageAccessFilter(IOptions<StatusPageOptions> options) : IEndpointFilter
{
    public const string HeaderName = "X-Status-Key";
    public const string CookieName = "status_key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = options.Value.AccessKey;
        var http = context.HttpContext;
        if (string.IsNullOrEmpty(expected)
            || Matches(http.Request.Headers[HeaderName].ToString(), expected)
            || Matches(http.Request.Cookies[CookieName], expected))
        {
            return await next(context);
        }

        var fromQuery = http.Request.Query["key"].ToString();
        if (Matches(fromQuery, expected))
        {
            http.Response.Cookies.Append(CookieName, fromQuery, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = http.Request.IsHttps,
                Path = "/status",
            });
            return Results.Redirect(http.Request.PathBase + http.Request.Path);
        }

        throw new ApiException(StatusCodes.Status401Unauthorized, ServiceErrorIds.Unauthorized,
            $"The status page needs its access key: open /status?key=<key> once, or send {HeaderName}.");
    }

    // Compared as hashes in fixed time: the comparison leaks neither the key's length nor its prefix.
    private static bool Matches(string? presented, string expected) =>
        !string.IsNullOrEmpty(presented)
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
