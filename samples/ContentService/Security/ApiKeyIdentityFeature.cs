namespace ContentService.Security;

/// <summary>Where the request's API key (as presented) and its validated identity are kept for the request.</summary>
internal static class ApiKeyIdentityFeature
{
    public const string HeaderName = "X-Api-Key";
    private static readonly object IdentityKey = new();

    /// <summary>The key presented in <c>X-Api-Key</c> or <c>Authorization: Bearer</c>, or null.</summary>
    public static string? PresentedKey(HttpContext http)
    {
        var header = http.Request.Headers[HeaderName].ToString();
        if (header.Length > 0)
        {
            return header;
        }

        var authorization = http.Request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
    }

    public static void Set(HttpContext http, ApiKeyIdentity identity) => http.Items[IdentityKey] = identity;

    public static ApiKeyIdentity? Get(HttpContext http) => http.Items.TryGetValue(IdentityKey, out var value) ? value as ApiKeyIdentity : null;

    /// <summary>For logs: the hash-derived id of the key presented (valid or not), or "-" without one. Never the key.</summary>
    public static string KeyIdOf(HttpContext http) =>
        Get(http)?.KeyId ?? (PresentedKey(http) is { Length: > 0 } key ? ApiKeyStore.KeyIdOf(key) : "-");
}
