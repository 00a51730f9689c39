using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Resilience.Npgsql;

namespace ContentService.Tasks;

/// <summary>The outcome of an idempotent create: the task, and whether this call created it.</summary>
internal readonly record struct CreateResult(TaskResponse Task, bool Created, bool KeyReusedWithOtherBody);

/// <summary>Every task query of the API, through <see cref="ResilientDataSource"/>.</summary>
internal sealed class TaskRepository(ResilientDataSource db)
{
    // The number of columns in Columns: the read-back of a create puts request_hash right after them.
    private const int ColumnCount = 16;

    internal const string Columns =
        "id, status, stage, progress, topic, style, target_length, complexity, attempts, error_id, error_message, content_id, created_at, updated_at, started_at, completed_at";

    public async ValueTask<CreateResult> CreateAsync(TaskSpec spec, string createdBy, string? idempotencyKey, CancellationToken ct)
    {
        // The id is ours, the insert does nothing on conflict, and the read-back is a read: re-running it after a lost
        // commit acknowledgement gives the same answer, so the call is idempotent and safe to retry.
        var state = (Id: Guid.CreateVersion7(), spec, createdBy, idempotencyKey, Hash: RequestHash(spec));
        return await db.ExecuteAsync(static async (command, s, ct) =>
        {
            command.CommandText = $"""
                INSERT INTO content_tasks (id, topic, style, target_length, complexity, created_by, idempotency_key, request_hash)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT DO NOTHING
                RETURNING {Columns}
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.spec.Topic });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.spec.Style });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.spec.TargetLength });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.spec.Complexity });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.createdBy });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)s.idempotencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = s.Hash });
            if (await ReadOneAsync(command, ct) is { } created)
            {
                return new CreateResult(created, Created: true, KeyReusedWithOtherBody: false);
            }

            // Conflict: either an earlier request with this key, or our own insert committed by an earlier attempt.
            command.Parameters.Clear();
            command.CommandText = $"""
                SELECT {Columns}, request_hash FROM content_tasks
                WHERE id = $1 OR (created_by = $2 AND idempotency_key = $3)
                ORDER BY (id = $1) DESC LIMIT 1
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.createdBy });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)s.idempotencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                throw new InvalidOperationException("A task insert conflicted, yet neither its id nor its idempotency key is found.");
            }

            var existing = Read(reader);
            if (existing.Id == s.Id)
            {
                return new CreateResult(existing, Created: true, KeyReusedWithOtherBody: false);
            }

            var sameBody = reader.GetFieldValue<byte[]>(ColumnCount).AsSpan().SequenceEqual(s.Hash);
            return new CreateResult(existing, Created: false, KeyReusedWithOtherBody: !sameBody);
        }, state, DbCallOptions.Idempotent, ct);
    }

    public ValueTask<TaskResponse?> GetAsync(Guid id, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, id, ct) =>
        {
            command.CommandText = $"SELECT {Columns} FROM content_tasks WHERE id = $1";
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            return await ReadOneAsync(command, ct);
        }, id, DbCallOptions.Idempotent, ct);

    public ValueTask<TaskPage> ListAsync(string? status, int page, int pageSize, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, s, ct) =>
        {
            // Newest first; the id breaks ties between tasks created in the same microsecond, so pages never overlap.
            command.CommandText = $"""
                SELECT {Columns}, count(*) OVER () FROM content_tasks
                WHERE $1::text IS NULL OR status = $1
                ORDER BY created_at DESC, id DESC
                LIMIT $2 OFFSET $3
                """;
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)s.status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.pageSize });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)(s.page - 1) * s.pageSize });
            var items = new List<TaskResponse>(s.pageSize);
            long total = -1;
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    items.Add(Read(reader));
                    total = reader.GetInt64(reader.FieldCount - 1);
                }
            }

            if (total < 0)
            {
                // Past the last page (or nothing at all): the total still tells the client where the data ends.
                command.Parameters.Clear();
                command.CommandText = "SELECT count(*) FROM content_tasks WHERE $1::text IS NULL OR status = $1";
                command.Parameters.Add(new NpgsqlParameter { Value = (object?)s.status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
                total = (long)(await command.ExecuteScalarAsync(ct))!;
            }

            return new TaskPage(items, s.page, s.pageSize, total);
        }, (status, page, pageSize), DbCallOptions.Idempotent, ct);

    /// <summary>Marks a pending or running task cancelled; returns the task as it is afterwards (null when unknown).</summary>
    public ValueTask<TaskResponse?> CancelAsync(Guid id, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, id, ct) =>
        {
            // Cancelling twice has the same effect as once, so the call is idempotent.
            command.CommandText = $"""
                UPDATE content_tasks
                SET status = 'cancelled', stage = 'cancelled', error_id = 'ERR_CANCELLED', error_message = 'Cancelled by the client.',
                    lease_owner = NULL, lease_expires_at = NULL, updated_at = now(), completed_at = now()
                WHERE id = $1 AND status IN ('pending', 'running')
                RETURNING {Columns}
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            if (await ReadOneAsync(command, ct) is { } cancelled)
            {
                return cancelled;
            }

            command.CommandText = $"SELECT {Columns} FROM content_tasks WHERE id = $1";
            return await ReadOneAsync(command, ct);
        }, id, DbCallOptions.Idempotent, ct);

    internal static async ValueTask<TaskResponse?> ReadOneAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    internal static TaskResponse Read(NpgsqlDataReader r) => new(
        r.GetGuid(0),
        r.GetString(1),
        r.GetString(2),
        r.GetInt32(3),
        r.GetString(4),
        r.GetString(5),
        r.GetInt32(6),
        r.GetString(7),
        r.GetInt32(8),
        r.IsDBNull(9) ? null : r.GetString(9),
        r.IsDBNull(10) ? null : r.GetString(10),
        r.IsDBNull(11) ? null : r.GetGuid(11),
        r.GetFieldValue<DateTimeOffset>(12),
        r.GetFieldValue<DateTimeOffset>(13),
        r.IsDBNull(14) ? null : r.GetFieldValue<DateTimeOffset>(14),
        r.IsDBNull(15) ? null : r.GetFieldValue<DateTimeOffset>(15));

    private static byte[] RequestHash(TaskSpec spec) =>
        SHA256.HashData(Encoding.UTF8.GetBytes($"{spec.Topic}\n{spec.Style}\n{spec.TargetLength}\n{spec.Complexity}"));
}
