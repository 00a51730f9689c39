using Npgsql;
using Resilience.Npgsql;

namespace ContentService.Content;

/// <summary>The content queries, through <see cref="ResilientDataSource"/>.</summary>
internal sealed class ContentRepository(ResilientDataSource db)
{
    private const string SummaryColumns = "id, task_id, title, provider, quality_score, refined, image_id, created_at, updated_at";

    public ValueTask<ContentPage> ListAsync(int page, int pageSize, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, s, ct) =>
        {
            command.CommandText = $"""
                SELECT {SummaryColumns}, (SELECT count(*) FROM content) FROM content
                ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2
                """;
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.pageSize });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)(s.page - 1) * s.pageSize });
            var items = new List<ContentSummary>(s.pageSize);
            long total = 0;
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    items.Add(new ContentSummary(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3),
                        reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.GetBoolean(5), reader.IsDBNull(6) ? null : reader.GetString(6),
                        reader.GetFieldValue<DateTimeOffset>(7), reader.GetFieldValue<DateTimeOffset>(8)));
                    total = reader.GetInt64(9);
                }
            }

            if (items.Count == 0)
            {
                command.Parameters.Clear();
                command.CommandText = "SELECT count(*) FROM content";
                total = (long)(await command.ExecuteScalarAsync(ct))!;
            }

            return new ContentPage(items, s.page, s.pageSize, total);
        }, (page, pageSize), DbCallOptions.Idempotent, ct);

    public ValueTask<ContentResponse?> GetAsync(Guid id, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, id, ct) =>
        {
            command.CommandText = "SELECT id, task_id, title, body, provider, quality_score, refined, image_id, created_at, updated_at FROM content WHERE id = $1";
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct)
                ? new ContentResponse(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.GetBoolean(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                    reader.GetFieldValue<DateTimeOffset>(8), reader.GetFieldValue<DateTimeOffset>(9))
                : null;
        }, id, DbCallOptions.Idempotent, ct);

    /// <summary>Points the content at <paramref name="imageId"/> and queues the old image's delete in the same transaction.</summary>
    /// <returns>False when the content does not exist (the caller then deletes the new upload).</returns>
    public ValueTask<(bool Found, string? OldImageId)> ReplaceImageAsync(Guid id, string imageId, CancellationToken ct) =>
        db.InTransactionAsync(static async (command, s, ct) =>
        {
            command.CommandText = "SELECT image_id FROM content WHERE id = $1 FOR UPDATE";
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.id });
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                if (!await reader.ReadAsync(ct))
                {
                    return (false, null);
                }

                var old = reader.IsDBNull(0) ? null : reader.GetString(0);
                await reader.CloseAsync();
                if (old == s.imageId)
                {
                    // The same upload again (same key, same image): nothing changes.
                    return (true, null);
                }

                command.Parameters.Clear();
                command.CommandText = "UPDATE content SET image_id = $2, updated_at = now() WHERE id = $1";
                command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.id });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.imageId });
                await command.ExecuteNonQueryAsync(ct);
                if (old is not null)
                {
                    await CmsDeletionQueue.EnqueueAsync(command, old, "replaced", ct);
                }

                return (true, old);
            }
        }, (id, imageId), System.Data.IsolationLevel.ReadCommitted, DbCallOptions.Idempotent, ct);

    /// <summary>Deletes the content and queues its image's delete in one transaction; null when it does not exist.</summary>
    public ValueTask<(bool Found, string? ImageId)> DeleteAsync(Guid id, CancellationToken ct) =>
        db.InTransactionAsync(static async (command, id, ct) =>
        {
            command.CommandText = "DELETE FROM content WHERE id = $1 RETURNING image_id";
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            string? imageId;
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                if (!await reader.ReadAsync(ct))
                {
                    return (false, null);
                }

                imageId = reader.IsDBNull(0) ? null : reader.GetString(0);
            }

            command.Parameters.Clear();
            command.CommandText = "UPDATE content_tasks SET content_id = NULL, updated_at = now() WHERE content_id = $1";
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            await command.ExecuteNonQueryAsync(ct);
            if (imageId is not null)
            {
                await CmsDeletionQueue.EnqueueAsync(command, imageId, "content deleted", ct);
            }

            return (true, imageId);
        }, id, System.Data.IsolationLevel.ReadCommitted, DbCallOptions.Idempotent, ct);
}
