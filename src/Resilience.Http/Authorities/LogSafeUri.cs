using System.Globalization;

namespace Resilience.Http;

/// <summary>Renders a request URI for logs and tags without user info, query or fragment, where secrets and personal data live.</summary>
internal static class LogSafeUri
{
    /// <summary>Returns <c>scheme://host:port/path</c> for an absolute URI, the path alone for a relative one, and <c>(none)</c> for <see langword="null"/>.</summary>
    public static string Render(Uri? uri)
    {
        if (uri is null)
        {
            return "(none)";
        }

        if (uri.IsAbsoluteUri)
        {
            var host = uri.HostNameType == UriHostNameType.IPv6 ? "[" + uri.IdnHost + "]" : uri.IdnHost;
            return string.Create(CultureInfo.InvariantCulture, $"{uri.Scheme}://{host}:{uri.Port}{uri.AbsolutePath}");
        }

        var text = uri.OriginalString;
        var end = text.AsSpan().IndexOfAny('?', '#');
        return end < 0 ? text : text[..end];
    }
}
