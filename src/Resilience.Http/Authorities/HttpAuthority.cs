using System.Globalization;

namespace Resilience.Http;

/// <summary>The authority of a request (scheme, host, port): the unit a breaker protects. Compared without allocating.</summary>
internal readonly struct HttpAuthority : IEquatable<HttpAuthority>
{
    private HttpAuthority(string scheme, string host, int port)
    {
        Scheme = scheme;
        Host = host;
        Port = port;
    }

    public string Scheme { get; }

    public string Host { get; }

    public int Port { get; }

    /// <summary>Returns the authority of an absolute URI; the port is explicit even when it is the scheme's default.</summary>
    /// <exception cref="ArgumentException"><paramref name="uri"/> is relative.</exception>
    public static HttpAuthority From(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri)
        {
            throw new ArgumentException("The request URI must be absolute to have an authority.", nameof(uri));
        }

        // IdnHost: the ASCII form, so "bücher.example" and "xn--bcher-kva.example" are one authority; user info,
        // path, query and fragment are never part of the key.
        return new HttpAuthority(uri.Scheme, uri.IdnHost, uri.Port);
    }

    /// <summary>Renders <c>scheme://host:port</c> (IPv6 hosts in brackets), safe for logs and metric tags.</summary>
    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"{Scheme}://[{Host}]:{Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{Scheme}://{Host}:{Port}");

    public bool Equals(HttpAuthority other) =>
        Port == other.Port
        && string.Equals(Scheme, other.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase);

    public override bool Equals(object? obj) => obj is HttpAuthority other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(
        StringComparer.OrdinalIgnoreCase.GetHashCode(Scheme), StringComparer.OrdinalIgnoreCase.GetHashCode(Host), Port);
}
