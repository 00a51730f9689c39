using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ContentService.Security;

/// <summary>API keys and request limits, bound from the <c>Security</c> section (keys only from the environment or a secret store).</summary>
internal sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>Owner name → key, e.g. <c>Security__ApiKeys__ops=…</c>; hashed at start-up, the plain keys are not kept.</summary>
    public Dictionary<string, string> ApiKeys { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Owner name → SHA-256 of a key as hex, for deployments that never hand the service the key itself.</summary>
    public Dictionary<string, string> ApiKeyHashes { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The key for the key-admin endpoints (<c>X-Admin-Key</c>), from the environment only (<c>Security__AdminKey</c>); unset, they answer 503.</summary>
    public string? AdminKey { get; set; }

    /// <summary>How long a rotated key's previous secret keeps working, so clients can switch over. Default 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan RotationGracePeriod { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the per-minute audit of key use is kept. Default 7 days.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "366.00:00:00")]
    public TimeSpan AuditRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The largest JSON request body accepted.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>The largest image upload accepted.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public long MaxImageBytes { get; set; } = 2 * 1024 * 1024;

    public IEnumerable<(string Owner, string HashHex)> ConfiguredKeyHashes()
    {
        foreach (var (owner, key) in ApiKeys)
        {
            yield return (owner, ApiKeyStore.HashHex(key));
        }

        foreach (var (owner, hash) in ApiKeyHashes)
        {
            yield return (owner, hash.ToLowerInvariant());
        }
    }
}

/// <summary>Cross-field rules for <see cref="SecurityOptions"/>; each message names the key.</summary>
internal sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        var errors = new List<string>();
        if (options.ApiKeys.Count + options.ApiKeyHashes.Count == 0)
        {
            errors.Add("Security:ApiKeys: no API key is configured, so nothing could write. Set one through the environment, " +
                       "e.g. Security__ApiKeys__ops=<a long random key> (scripts/run-sample.sh generates one), or Security:ApiKeyHashes:<owner>=<sha256 hex>.");
        }

        foreach (var (owner, key) in options.ApiKeys)
        {
            if (key.Length < 16)
            {
                errors.Add($"Security:ApiKeys:{owner}: the key is shorter than 16 characters.");
            }
        }

        if (options.AdminKey is { Length: > 0 and < 16 })
        {
            errors.Add("Security:AdminKey: the key is shorter than 16 characters.");
        }

        foreach (var (owner, hash) in options.ApiKeyHashes)
        {
            if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
            {
                errors.Add($"Security:ApiKeyHashes:{owner}: not a SHA-256 in hex (64 hex digits).");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
