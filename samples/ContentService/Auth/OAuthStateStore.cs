using Npgsql;
using Resilience.Npgsql;

namespace ContentService.Auth;

/// <summary>What checking a callback's <c>state</c> found.</summary>
internal enum StateCheck
{
    /// <summary>Known, unused and fresh: now used.</summary>
    Consumed,

    /// <summary>Never issued here (or pruned long ago).</summary>
    Unknown,

    /// <summary>Already used once.</summary>
    Replayed,

    /// <summary>Issued, unused, but too old.</summary>
    Expired,
}

/// <summary>
/// The issued <c>state</c> values, in PostgreSQL by SHA-256 (a database dump holds no usable state). Consuming is one
/// conditional <c>UPDATE</c>: of two concurrent callbacks with the same state, exactly one wins.
/// </summary>
internal sealed class OAuthStateStore(ResilientDataSource database)
{
    public async Task IssueAsync(byte[] stateHash, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        await database.ExecuteAsync(static async (command, state, ct) =>
        {
            // A 256-bit random state cannot collide; ON CONFLICT makes a retried insert harmless. Old rows go in passing.
            command.CommandText = "INSERT INTO oauth_states (state_hash, created_at, expires_at) VALUES ($1, $2, $3) ON CONFLICT (state_hash) DO NOTHING";
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = state.stateHash });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.now });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.expiresAt });
            var inserted = await command.ExecuteNonQueryAsync(ct);

            // Kept a day past expiry so a late callback is told "expired", not "unknown".
            command.CommandText = "DELETE FROM oauth_states WHERE expires_at < $1 - interval '1 day'";
            command.Parameters.Clear();
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.now });
            await command.ExecuteNonQueryAsync(ct);
            return inserted;
        }, (stateHash, now, expiresAt), DbCallOptions.Idempotent, cancellationToken);

    public async Task<StateCheck> ConsumeAsync(byte[] stateHash, DateTimeOffset now, CancellationToken cancellationToken) =>
        await database.ExecuteAsync(static async (command, state, ct) =>
        {
            command.CommandText = "UPDATE oauth_states SET used_at = $2 WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2";
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = state.stateHash });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = state.now });
            if (await command.ExecuteNonQueryAsync(ct) == 1)
            {
                return StateCheck.Consumed;
            }

            // Not consumed: say why, for the error ID.
            command.CommandText = "SELECT used_at IS NOT NULL FROM oauth_states WHERE state_hash = $1";
            command.Parameters.RemoveAt(1);
            var used = await command.ExecuteScalarAsync(ct);
            return used switch
            {
                null => StateCheck.Unknown,
                true => StateCheck.Replayed,
                _ => StateCheck.Expired,
            };
        }, (stateHash, now), default, cancellationToken);
}
