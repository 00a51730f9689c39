using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using Resilience.Npgsql;

namespace ContentService.Security;

/// <summary>Who presented a valid API key: the owner and a short, loggable id derived from the key's hash.</summary>
/// <param name="Owner">The configured name or the signed-in user the key was issued to.</param>
/// <param name="KeyId">The first 12 hex digits of the key's SHA-256: safe to log, useless to an attacker.</param>
internal sealed record ApiKeyIdentity(string Owner, string KeyId);

/// <summary>
/// Validates API keys against the configured keys (held only as SHA-256 hashes) and the keys issued at run time
/// (table <c>api_keys</c>, hashes only). A key is never stored, logged or compared in plain text.
/// </summary>
internal sealed class ApiKeyStore
{
    private const int KeyBytes = 32;
    private readonly Dictionary<string, string> _configured;
    private readonly ResilientDataSource _database;
    private readonly TimeProvider _time;

    public ApiKeyStore(IOptions<SecurityOptions> options, ResilientDataSource database, TimeProvider time)
    {
        _database = database;
        _time = time;
        _configured = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (owner, hash) in options.Value.ConfiguredKeyHashes())
        {
            _configured[hash] = owner;
        }
    }

    /// <summary>How many keys come from configuration (logged at start-up).</summary>
    public int ConfiguredCount => _configured.Count;

    /// <summary>The SHA-256 of a presented key, as lower-case hex.</summary>
    public static string HashHex(string key) => Convert.ToHexStringLower(Hash(key));

    /// <summary>The loggable id of a presented key (valid or not).</summary>
    public static string KeyIdOf(string key) => HashHex(key)[..12];

    /// <summary>Returns who owns <paramref name="presentedKey"/>, or null when it is unknown or expired.</summary>
    /// <exception cref="DatabaseException">The issued keys could not be read (never reported as "invalid key").</exception>
    public async ValueTask<ApiKeyIdentity?> ValidateAsync(string presentedKey, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(presentedKey) || presentedKey.Length > 256)
        {
            return null;
        }

        var hash = Hash(presentedKey);
        var hex = Convert.ToHexStringLower(hash);
        if (_configured.TryGetValue(hex, out var owner))
        {
            return new ApiKeyIdentity(owner, hex[..12]);
        }

        var issuedOwner = await _database.ExecuteAsync(static async (command, state, ct) =>
        {
            command.CommandText = "SELECT owner FROM api_keys WHERE key_hash = $1 AND (expires_at IS NULL OR expires_at > $2)";
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = state.hash });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.now });
            return (string?)await command.ExecuteScalarAsync(ct);
        }, (hash, now: _time.GetUtcNow()), DbCallOptions.Idempotent, ct);
        return issuedOwner is null ? null : new ApiKeyIdentity(issuedOwner, hex[..12]);
    }

    /// <summary>Generates a new random key for <paramref name="owner"/>, stores only its hash, and returns the key (the only time it is seen).</summary>
    public async Task<string> IssueAsync(string owner, DateTimeOffset? expiresAt, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        var key = "rk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await _database.ExecuteAsync(static async (command, state, ct) =>
        {
            // A 256-bit random key cannot collide in practice; ON CONFLICT makes a retried insert harmless.
            command.CommandText = "INSERT INTO api_keys (key_hash, owner, expires_at) VALUES ($1, $2, $3) ON CONFLICT (key_hash) DO NOTHING";
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = state.hash });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = state.owner });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)state.expiresAt ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
            return await command.ExecuteNonQueryAsync(ct);
        }, (hash: Hash(key), owner, expiresAt), DbCallOptions.Idempotent, ct);
        return key;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
