using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using Resilience.Npgsql;

namespace ContentService.Security;

/// <summary>Who presented a valid API key: the owner and a short, loggable id derived from the key's hash.</summary>
/// <param name="Owner">The configured name or the signed-in user the key was issued to.</param>
/// <param name="KeyId">The first 12 hex digits of the key's SHA-256: safe to log, useless to an attacker.</param>
/// <param name="IssuedId">The stable id of an issued key (it survives rotation); null for a configured key.</param>
internal sealed record ApiKeyIdentity(string Owner, string KeyId, Guid? IssuedId = null)
{
    /// <summary>The id the audit log records: the issued key's id, or the configured key's hash-derived id.</summary>
    public string AuditId => IssuedId?.ToString() ?? KeyId;
}

/// <summary>An issued key as an operator sees it: never its secret or hash.</summary>
internal sealed record IssuedKey(
    Guid Id,
    string Owner,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? RotatedAt,
    DateTimeOffset? PreviousSecretValidUntil)
{
    public bool Revoked => RevokedAt is not null;
}

/// <summary>A page of issued keys, newest first.</summary>
internal sealed record IssuedKeyPage(IReadOnlyList<IssuedKey> Items, int Page, int PageSize, long Total);

/// <summary>What a rotation did: the new secret (shown this once) and until when the previous one still works.</summary>
internal sealed record RotatedKey(Guid Id, string Owner, string ApiKey, DateTimeOffset? ExpiresAt, DateTimeOffset PreviousSecretValidUntil);

/// <summary>Why a rotation did not happen.</summary>
internal enum RotateRefusal
{
    None,
    NotFound,
    Revoked,
    Expired,
}

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

    /// <summary>The loggable id of <paramref name="presentedKey"/> when it is a configured key, else null; no I/O, for the rate limiter's partitioning.</summary>
    public string? ConfiguredKeyId(string presentedKey)
    {
        var hex = HashHex(presentedKey);
        return _configured.ContainsKey(hex) ? hex[..12] : null;
    }

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

        var issued = await _database.ExecuteAsync(static async (command, state, ct) =>
        {
            // The current secret, or the previous one during its grace period after a rotation; never a revoked key.
            command.CommandText = """
                SELECT id, owner FROM api_keys
                WHERE (key_hash = $1 OR (previous_hash = $1 AND previous_valid_until > $2))
                  AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
                """;
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = state.hash });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.now });
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? (reader.GetGuid(0), reader.GetString(1)) : ((Guid, string)?)null;
        }, (hash, now: _time.GetUtcNow()), DbCallOptions.Idempotent, ct);
        return issued is { } found ? new ApiKeyIdentity(found.Item2, hex[..12], found.Item1) : null;
    }

    /// <summary>The issued keys, newest first (configured keys live in configuration and are not listed).</summary>
    public async Task<IssuedKeyPage> ListAsync(int page, int pageSize, CancellationToken ct) =>
        await _database.ExecuteAsync(static async (command, state, ct) =>
        {
            command.CommandText = """
                SELECT id, owner, created_at, expires_at, last_used_at, revoked_at, rotated_at, previous_valid_until, count(*) OVER ()
                FROM api_keys ORDER BY created_at DESC, id LIMIT $1 OFFSET $2
                """;
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = state.pageSize });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)(state.page - 1) * state.pageSize });
            var items = new List<IssuedKey>();
            long total = 0;
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                items.Add(new IssuedKey(
                    reader.GetGuid(0),
                    reader.GetString(1),
                    reader.GetFieldValue<DateTimeOffset>(2),
                    Nullable(reader, 3),
                    Nullable(reader, 4),
                    Nullable(reader, 5),
                    Nullable(reader, 6),
                    Nullable(reader, 7)));
                total = reader.GetInt64(8);
            }

            if (items.Count == 0 && state.page > 1)
            {
                command.CommandText = "SELECT count(*) FROM api_keys";
                command.Parameters.Clear();
                total = (long)(await command.ExecuteScalarAsync(ct))!;
            }

            return new IssuedKeyPage(items, state.page, state.pageSize, total);
        }, (page, pageSize), DbCallOptions.Idempotent, ct);

    /// <summary>
    /// Gives the key <paramref name="id"/> a new secret; the previous one keeps working until now + <paramref name="grace"/>
    /// (a secret older than that is dropped at once). With <paramref name="expectedRefreshHash"/>, only when the key is
    /// still renewed by that refresh token (of two concurrent refreshes, one wins), and then its expiry and refresh token change too.
    /// </summary>
    public async Task<(RotatedKey? Key, RotateRefusal Refusal)> RotateAsync(
        Guid id, TimeSpan grace, CancellationToken ct, byte[]? expectedRefreshHash = null, DateTimeOffset? newExpiresAt = null, byte[]? newRefreshHash = null)
    {
        var key = NewKey();
        var now = _time.GetUtcNow();
        var validUntil = now + grace;
        var owner = await _database.ExecuteAsync(static async (command, state, ct) =>
        {
            // Not retried once sent (default options): a second run would replace the first new secret, which the caller never saw.
            command.CommandText = """
                UPDATE api_keys
                SET previous_hash = key_hash, previous_valid_until = $3, key_hash = $2, rotated_at = $4,
                    expires_at = CASE WHEN $5 THEN $6 ELSE expires_at END,
                    refresh_hash = CASE WHEN $5 THEN $8 ELSE refresh_hash END
                WHERE id = $1 AND revoked_at IS NULL
                  AND (CASE WHEN $5 THEN refresh_hash = $7 ELSE expires_at IS NULL OR expires_at > $4 END)
                RETURNING owner, expires_at
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = state.id });
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = state.hash });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.validUntil });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.now });
            command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = state.expectedRefreshHash is not null });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)state.newExpiresAt ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)state.expectedRefreshHash ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)state.newRefreshHash ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                if (await reader.ReadAsync(ct))
                {
                    return (reader.GetString(0), Nullable(reader, 1), RotateRefusal.None);
                }
            }

            // Not rotated: say why, for the error ID.
            command.CommandText = "SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = $1";
            command.Parameters.Clear();
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = state.id });
            return await command.ExecuteScalarAsync(ct) switch
            {
                null => (null, null, RotateRefusal.NotFound),
                true => (null, null, RotateRefusal.Revoked),
                _ => ((string?)null, (DateTimeOffset?)null, RotateRefusal.Expired),
            };
        }, (id, hash: Hash(key), validUntil, now, expectedRefreshHash, newExpiresAt, newRefreshHash), default, ct);
        return owner.Item1 is { } o ? (new RotatedKey(id, o, key, owner.Item2, validUntil), RotateRefusal.None) : (null, owner.Item3);
    }

    /// <summary>Revokes the key <paramref name="id"/> (current and previous secret) at once; false when there is no such key. Revoking twice is harmless.</summary>
    public async Task<bool> RevokeAsync(Guid id, CancellationToken ct) =>
        await _database.ExecuteAsync(static async (command, state, ct) =>
        {
            command.CommandText = "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1";
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = state.id });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.now });
            return await command.ExecuteNonQueryAsync(ct) == 1;
        }, (id, now: _time.GetUtcNow()), DbCallOptions.Idempotent, ct);

    /// <summary>The id of the live (not revoked) key renewed by the refresh token with this hash, or null.</summary>
    public async Task<Guid?> FindByRefreshHashAsync(byte[] refreshHash, CancellationToken ct) =>
        await _database.ExecuteAsync(static async (command, state, ct) =>
        {
            command.CommandText = "SELECT id FROM api_keys WHERE refresh_hash = $1 AND revoked_at IS NULL";
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = state });
            return (Guid?)await command.ExecuteScalarAsync(ct);
        }, refreshHash, DbCallOptions.Idempotent, ct);

    /// <summary>Generates a new random key for <paramref name="owner"/>, stores only its hash, and returns the key (the only time it is seen).</summary>
    public async Task<string> IssueAsync(string owner, DateTimeOffset? expiresAt, CancellationToken ct) =>
        (await IssueAsync(owner, expiresAt, null, ct)).Key;

    /// <summary>As <see cref="IssueAsync(string, DateTimeOffset?, CancellationToken)"/>, renewable with the refresh token whose hash is <paramref name="refreshHash"/>; returns the key's id too.</summary>
    public async Task<(Guid Id, string Key)> IssueAsync(string owner, DateTimeOffset? expiresAt, byte[]? refreshHash, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        var key = NewKey();
        var id = Guid.CreateVersion7(_time.GetUtcNow());
        await _database.ExecuteAsync(static async (command, state, ct) =>
        {
            // A 256-bit random key cannot collide in practice; ON CONFLICT makes a retried insert harmless.
            command.CommandText = "INSERT INTO api_keys (key_hash, owner, expires_at, id, refresh_hash) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_hash) DO NOTHING";
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = state.hash });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = state.owner });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)state.expiresAt ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = state.id });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)state.refreshHash ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
            return await command.ExecuteNonQueryAsync(ct);
        }, (hash: Hash(key), owner, expiresAt, id, refreshHash), DbCallOptions.Idempotent, ct);
        return (id, key);
    }

    private static string NewKey() => "rk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static DateTimeOffset? Nullable(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
