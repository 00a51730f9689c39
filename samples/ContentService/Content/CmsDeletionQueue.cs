using ContentService.Providers;
using Npgsql;
using Resilience.Npgsql;

namespace ContentService.Content;

/// <summary>
/// Deletes images from the CMS through an outbox: the delete is recorded in <c>cms_pending_deletes</c> in the same
/// transaction that unreferences the image, then tried at once and, while the CMS is down, again by
/// <see cref="CmsDeletionSweeper"/>. An image is never left behind without a record saying so.
/// </summary>
internal sealed partial class CmsDeletionQueue(ResilientDataSource db, CmsClient cms, ILogger<CmsDeletionQueue> logger)
{
    /// <summary>Adds the enqueue statement to a transaction in progress (the caller's command).</summary>
    public static async Task EnqueueAsync(NpgsqlCommand command, string imageId, string reason, CancellationToken ct)
    {
        command.Parameters.Clear();
        command.CommandText = "INSERT INTO cms_pending_deletes (image_id, reason) VALUES ($1, $2) ON CONFLICT (image_id) DO NOTHING";
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = imageId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = reason });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Records and tries one delete outside any other change (e.g. an upload whose task was cancelled).</summary>
    public async Task<bool> EnqueueAndTryAsync(string imageId, string reason, CancellationToken ct)
    {
        await db.ExecuteAsync(static async (command, s, ct) =>
        {
            await EnqueueAsync(command, s.imageId, s.reason, ct);
            return true;
        }, (imageId, reason), DbCallOptions.Idempotent, ct);
        return await TryDeleteAsync(imageId, ct);
    }

    /// <summary>Deletes the image in the CMS and its queue entry; on a CMS failure the entry stays, due again later. Returns whether it is gone.</summary>
    public async Task<bool> TryDeleteAsync(string imageId, CancellationToken ct)
    {
        try
        {
            await cms.DeleteAsync(imageId, ct);
        }
        catch (Exception e) when (e is UpstreamUnavailableException or HttpRequestException && !ct.IsCancellationRequested)
        {
            LogDeferred(logger, imageId, e.Message);
            await db.ExecuteAsync(static async (command, s, ct) =>
            {
                // Back off per entry: 30 s, 60 s, … up to 30 minutes.
                command.CommandText = """
                    UPDATE cms_pending_deletes SET attempts = attempts + 1, last_error = $2,
                        next_attempt_at = now() + least(interval '30 minutes', interval '30 seconds' * power(2, least(attempts, 6)))
                    WHERE image_id = $1
                    """;
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.imageId });
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.Message });
                return await command.ExecuteNonQueryAsync(ct);
            }, (imageId, e.Message), DbCallOptions.Idempotent, ct);
            return false;
        }

        await db.ExecuteAsync(static async (command, imageId, ct) =>
        {
            command.CommandText = "DELETE FROM cms_pending_deletes WHERE image_id = $1";
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = imageId });
            return await command.ExecuteNonQueryAsync(ct);
        }, imageId, DbCallOptions.Idempotent, ct);
        return true;
    }

    /// <summary>The entries due now, oldest first.</summary>
    public ValueTask<List<string>> DueAsync(int limit, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, limit, ct) =>
        {
            command.CommandText = "SELECT image_id FROM cms_pending_deletes WHERE next_attempt_at <= now() ORDER BY created_at LIMIT $1";
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            var due = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                due.Add(reader.GetString(0));
            }

            return due;
        }, limit, DbCallOptions.Idempotent, ct);

    [LoggerMessage(EventId = 1600, Level = LogLevel.Warning, Message = "Deleting image {ImageId} from the CMS failed ({Reason}); it stays queued and is retried")]
    private static partial void LogDeferred(ILogger logger, string imageId, string reason);
}
