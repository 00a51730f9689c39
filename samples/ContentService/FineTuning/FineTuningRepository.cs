using Npgsql;
using Resilience.Npgsql;

namespace ContentService.FineTuning;

/// <summary>Every fine-tuning query, through <see cref="ResilientDataSource"/>; each is safe to re-run, so each is marked idempotent.</summary>
internal sealed class FineTuningRepository(ResilientDataSource db)
{
    private const string Columns =
        "id, status, base_model, epochs, examples, progress, training_file_id, trained_model, error_id, error_message, created_at, updated_at, completed_at";

    private const string Active = "status IN ('pending', 'uploading', 'training')";

    public ValueTask<FineTuningJobResponse> CreateAsync(Guid id, string baseModel, int epochs, int examples, string createdBy, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, s, ct) =>
        {
            // Our own id and ON CONFLICT DO NOTHING, else the row already there: re-running after a lost acknowledgement inserts nothing twice.
            command.CommandText = $"""
                WITH created AS (
                    INSERT INTO fine_tuning_jobs (id, base_model, epochs, examples, created_by) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (id) DO NOTHING
                    RETURNING {Columns})
                SELECT {Columns} FROM created
                UNION ALL SELECT {Columns} FROM fine_tuning_jobs WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM created)
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.baseModel });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.epochs });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.examples });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.createdBy });
            return await ReadOneAsync(command, ct) ?? throw new InvalidOperationException("A fine-tuning job was inserted but not read back.");
        }, (id, baseModel, epochs, examples, createdBy), DbCallOptions.Idempotent, ct);

    public ValueTask<FineTuningJobResponse?> GetAsync(Guid id, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, id, ct) =>
        {
            command.CommandText = $"SELECT {Columns} FROM fine_tuning_jobs WHERE id = $1";
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            return await ReadOneAsync(command, ct);
        }, id, DbCallOptions.Idempotent, ct);

    /// <summary>Moves an active job on (status, progress, file id); false when it is no longer active (cancelled meanwhile).</summary>
    public ValueTask<bool> AdvanceAsync(Guid id, string status, int progress, string? trainingFileId, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, s, ct) =>
        {
            command.CommandText = $"""
                UPDATE fine_tuning_jobs SET status = $2, progress = $3, training_file_id = COALESCE($4, training_file_id), updated_at = now()
                WHERE id = $1 AND {Active}
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.status });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.progress });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)s.trainingFileId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            return await command.ExecuteNonQueryAsync(ct) == 1;
        }, (id, status, progress, trainingFileId), DbCallOptions.Idempotent, ct);

    /// <summary>Ends an active job; a job already final (e.g. cancelled by its owner) keeps its first ending.</summary>
    public async ValueTask FinishAsync(Guid id, string status, string? trainedModel, string? errorId, string? errorMessage, CancellationToken ct) =>
        await db.ExecuteAsync(static async (command, s, ct) =>
        {
            command.CommandText = $"""
                UPDATE fine_tuning_jobs
                SET status = $2, progress = CASE WHEN $2 = 'succeeded' THEN 100 ELSE progress END, trained_model = $3,
                    error_id = $4, error_message = $5, updated_at = now(), completed_at = now()
                WHERE id = $1 AND {Active}
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.status });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)s.trainedModel ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)s.errorId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)s.errorMessage ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            return await command.ExecuteNonQueryAsync(ct);
        }, (id, status, trainedModel, errorId, errorMessage), DbCallOptions.Idempotent, ct);

    /// <summary>Cancels an active job; returns the job as it now stands (final either way), or null when there is none.</summary>
    public ValueTask<FineTuningJobResponse?> CancelAsync(Guid id, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, id, ct) =>
        {
            // One statement (the data source prepares commands): the updated row, else the row as it stands.
            command.CommandText = $"""
                WITH cancelled AS (
                    UPDATE fine_tuning_jobs SET status = 'cancelled', error_id = 'ERR_CANCELLED', error_message = 'The job was cancelled.',
                        updated_at = now(), completed_at = now()
                    WHERE id = $1 AND {Active}
                    RETURNING {Columns})
                SELECT {Columns} FROM cancelled
                UNION ALL SELECT {Columns} FROM fine_tuning_jobs WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM cancelled)
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            return await ReadOneAsync(command, ct);
        }, id, DbCallOptions.Idempotent, ct);

    private static async Task<FineTuningJobResponse?> ReadOneAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        return new FineTuningJobResponse(
            reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5),
            reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
            reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9),
            reader.GetFieldValue<DateTimeOffset>(10), reader.GetFieldValue<DateTimeOffset>(11),
            reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12));
    }
}
