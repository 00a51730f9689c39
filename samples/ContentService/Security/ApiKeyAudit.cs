using Microsoft.Extensions.Options;
using Npgsql;
using Resilience.Npgsql;

namespace ContentService.Security;

/// <summary>One row of the audit log: how many requests a key made in one minute with one method, route and status.</summary>
internal sealed record KeyUsage(string KeyId, DateTimeOffset Minute, string Method, string Path, int Status, long Count);

/// <summary>
/// The audit log of key use (table <c>api_key_usage</c>): each authenticated request counts into its key's row for the
/// minute, method, route template and status, and stamps the issued key's <c>last_used_at</c>. Bounded twice: by the
/// aggregation, and by pruning rows older than <see cref="SecurityOptions.AuditRetention"/> once a minute per instance.
/// Holds key ids only, never a secret.
/// </summary>
internal sealed partial class ApiKeyAudit(ResilientDataSource database, IOptions<SecurityOptions> options, TimeProvider time, ILogger<ApiKeyAudit> logger)
{
    private long _lastPrunedMinute;

    public async Task RecordAsync(ApiKeyIdentity identity, string method, string path, int status, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var minute = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
        var prune = Interlocked.Exchange(ref _lastPrunedMinute, minute.Ticks) != minute.Ticks;
        try
        {
            await database.ExecuteAsync(static async (command, state, ct) =>
            {
                // One round trip: the count and last-used stamp together (a configured key has no row to stamp).
                command.CommandText = """
                    WITH used AS (UPDATE api_keys SET last_used_at = $6 WHERE id = $7 AND (last_used_at IS NULL OR last_used_at < $6))
                    INSERT INTO api_key_usage (key_id, minute, method, path, status, count) VALUES ($1, $2, $3, $4, $5, 1)
                    ON CONFLICT (key_id, minute, method, path, status) DO UPDATE SET count = api_key_usage.count + 1
                    """;
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = state.identity.AuditId });
                command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.minute });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = state.method });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = state.path });
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = state.status });
                command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.now });
                command.Parameters.Add(new NpgsqlParameter { Value = (object?)state.identity.IssuedId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
                await command.ExecuteNonQueryAsync(ct);
                if (state.prune)
                {
                    command.CommandText = "DELETE FROM api_key_usage WHERE minute < $1";
                    command.Parameters.Clear();
                    command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.minute - state.retention });
                    await command.ExecuteNonQueryAsync(ct);
                }

                return 0;
            }, (identity, minute, method, path, status, now, prune, retention: options.Value.AuditRetention), default, ct);
        }
        catch (Exception e)
        {
            // Called as the response starts (its status is settled): a lost audit count, even a timed-out one, is
            // logged, never turned into the request's error.
            LogRecordFailed(logger, e, identity.AuditId, method, path, status);
        }
    }

    /// <summary>The newest rows first, optionally of one key, at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<KeyUsage>> ReadAsync(string? keyId, int limit, CancellationToken ct) =>
        await database.ExecuteAsync(static async (command, state, ct) =>
        {
            command.CommandText = """
                SELECT key_id, minute, method, path, status, count FROM api_key_usage
                WHERE $1::text IS NULL OR key_id = $1
                ORDER BY minute DESC, key_id, method, path, status LIMIT $2
                """;
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)state.keyId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = state.limit });
            var rows = new List<KeyUsage>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add(new KeyUsage(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4), reader.GetInt64(5)));
            }

            return rows;
        }, (keyId, limit), DbCallOptions.Idempotent, ct);

    [LoggerMessage(EventId = 1210, Level = LogLevel.Warning, Message = "Audit of key {KeyId} for {Method} {Path} ({Status}) not recorded")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, string keyId, string method, string path, int status);
}
