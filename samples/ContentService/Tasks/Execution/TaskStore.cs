using ContentService.Events;
using ContentService.Providers;
using Npgsql;
using Resilience.Npgsql;

namespace ContentService.Tasks.Execution;

/// <summary>A task claimed by this instance: every change to it is guarded by the lease (owner + running).</summary>
internal sealed record ClaimedTask(TaskResponse Task, string Owner)
{
    public Guid Id => Task.Id;
}

/// <summary>What the content pipeline writes when it publishes.</summary>
internal sealed record PublishedContent(Guid ContentId, string Title, string Body, string Provider, int QualityScore, bool Refined, string ImageId);

/// <summary>The executor's queries: claim with SKIP LOCKED and a lease, progress, renewal, and each way a run can end.</summary>
internal sealed class TaskStore(ResilientDataSource db, TaskEventHub events, TimeProvider time)
{
    /// <summary>Claims the oldest runnable task: pending and due, or running under an expired lease (its instance died).</summary>
    /// <remarks>
    /// Not idempotent: should the commit acknowledgement be lost, the call fails with ERR_UNKNOWN_OUTCOME and the task
    /// claimed in the dark is picked up again once its lease expires.
    /// </remarks>
    public async ValueTask<ClaimedTask?> ClaimAsync(string owner, TimeSpan lease, CancellationToken ct)
    {
        var task = await db.ExecuteAsync(static async (command, s, ct) =>
        {
            command.CommandText = $"""
                WITH next AS (
                    SELECT id FROM content_tasks
                    WHERE (status = 'pending' AND available_at <= now())
                       OR (status = 'running' AND lease_expires_at < now())
                    ORDER BY created_at, id
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED)
                UPDATE content_tasks t
                SET status = 'running', lease_owner = $1, lease_expires_at = now() + $2, attempts = t.attempts + 1,
                    started_at = coalesce(t.started_at, now()), updated_at = now()
                FROM next WHERE t.id = next.id
                RETURNING {Prefixed("t.")}
                """;
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.owner });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = s.lease });
            return await TaskRepository.ReadOneAsync(command, ct);
        }, (owner, lease), default, ct);
        if (task is null)
        {
            return null;
        }

        Publish(task);
        return new ClaimedTask(task, owner);
    }

    /// <summary>Extends the lease; false when the task is no longer ours to run (cancelled, or taken over after our lease expired).</summary>
    public ValueTask<bool> RenewAsync(ClaimedTask task, TimeSpan lease, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, s, ct) =>
        {
            command.CommandText = "UPDATE content_tasks SET lease_expires_at = now() + $3 WHERE id = $1 AND lease_owner = $2 AND status = 'running'";
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.task.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.task.Owner });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = s.lease });
            return await command.ExecuteNonQueryAsync(ct) == 1;
        }, (task, lease), DbCallOptions.Idempotent, ct);

    /// <summary>Records the stage and progress; throws <see cref="OperationCanceledException"/> when the task is no longer ours.</summary>
    public async ValueTask StageAsync(ClaimedTask task, string stage, int progress, CancellationToken ct)
    {
        var updated = await UpdateAsync(task, "stage = $3, progress = $4", [stage, progress], ct);
        if (updated is null)
        {
            throw new OperationCanceledException("The task was cancelled or taken over.");
        }
    }

    /// <summary>The results of the stages this task already finished (on any attempt, any instance), by stage.</summary>
    public ValueTask<Dictionary<string, LlmResult>> StageResultsAsync(Guid taskId, CancellationToken ct) =>
        db.ExecuteAsync(static async (command, taskId, ct) =>
        {
            command.CommandText = "SELECT stage, provider, text, score FROM task_stage_results WHERE task_id = $1";
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = taskId });
            var results = new Dictionary<string, LlmResult>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                // Reused, not called: no tokens, no cost this time.
                results[reader.GetString(0)] = new LlmResult(reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetInt32(3), 0, 0m, reader.GetString(1));
            }

            return results;
        }, taskId, DbCallOptions.Idempotent, ct);

    /// <summary>Records a paid stage: its cost and its result, together, so the task never pays for the stage again.</summary>
    public ValueTask RecordStageAsync(ClaimedTask task, string stage, LlmResult result, CancellationToken ct) =>
        DiscardAsync(db.InTransactionAsync(static async (command, s, ct) =>
        {
            // A paid call is a fact whatever happens to the task later, so it is recorded without the lease guard; the call
            // id and the (task, stage) key make a repeated insert a no-op, so the call is idempotent and safe to retry.
            command.CommandText = """
                INSERT INTO task_costs (call_id, task_id, stage, provider, tokens, cost_usd) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (call_id) DO NOTHING
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.CallId });
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.stage });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.result.Provider });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.result.Tokens });
            command.Parameters.Add(new NpgsqlParameter<decimal> { TypedValue = s.result.CostUsd });
            await command.ExecuteNonQueryAsync(ct);
            command.Parameters.Clear();
            command.CommandText = """
                INSERT INTO task_stage_results (task_id, stage, provider, text, score) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (task_id, stage) DO NOTHING
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.stage });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.result.Provider });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.result.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)s.result.Score ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
            return await command.ExecuteNonQueryAsync(ct);
        }, (CallId: Guid.CreateVersion7(), task.Id, stage, result), System.Data.IsolationLevel.ReadCommitted, DbCallOptions.Idempotent, ct));

    /// <summary>Stores the content and completes the task in one transaction; false when the task is no longer ours (nothing stored).</summary>
    public async ValueTask<bool> PublishAsync(ClaimedTask task, PublishedContent content, CancellationToken ct)
    {
        var completed = await db.InTransactionAsync(static async (command, s, ct) =>
        {
            command.CommandText = $"""
                UPDATE content_tasks SET status = 'completed', stage = 'done', progress = 100, content_id = $3,
                    error_id = NULL, error_message = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = now(), completed_at = now()
                WHERE id = $1 AND lease_owner = $2 AND status = 'running'
                RETURNING {TaskRepository.Columns}
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.task.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.task.Owner });
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.content.ContentId });
            var done = await TaskRepository.ReadOneAsync(command, ct);
            if (done is null)
            {
                return null;
            }

            command.Parameters.Clear();
            command.CommandText = """
                INSERT INTO content (id, task_id, title, body, provider, quality_score, refined, image_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.content.ContentId });
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.task.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.content.Title });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.content.Body });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.content.Provider });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = s.content.QualityScore });
            command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = s.content.Refined });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.content.ImageId });
            await command.ExecuteNonQueryAsync(ct);
            return done;
        }, (task, content), System.Data.IsolationLevel.ReadCommitted, default, ct);
        if (completed is not null)
        {
            Publish(completed);
        }

        return completed is not null;
    }

    /// <summary>Ends the task failed with <paramref name="errorId"/> (no further attempts).</summary>
    public ValueTask FailAsync(ClaimedTask task, string errorId, string message, CancellationToken ct) =>
        DiscardAsync(UpdateAsync(task,
            "status = 'failed', error_id = $3, error_message = $4, lease_owner = NULL, lease_expires_at = NULL, completed_at = now()",
            [errorId, message], ct));

    /// <summary>Puts the task back to pending after a failed attempt, due again after <paramref name="delay"/>, keeping the error for the client to see.</summary>
    public ValueTask RetryLaterAsync(ClaimedTask task, string errorId, string message, TimeSpan delay, CancellationToken ct) =>
        DiscardAsync(UpdateAsync(task,
            "status = 'pending', stage = 'queued', progress = 0, error_id = $3, error_message = $4, available_at = now() + $5, lease_owner = NULL, lease_expires_at = NULL",
            [errorId, message, delay], ct));

    /// <summary>Puts the task back to pending without counting the attempt: shutdown, or waiting for providers to return.</summary>
    public ValueTask ReleaseAsync(ClaimedTask task, TimeSpan delay, string? errorId, string? message, CancellationToken ct) =>
        DiscardAsync(UpdateAsync(task,
            "status = 'pending', stage = 'queued', progress = 0, attempts = greatest(attempts - 1, 0), available_at = now() + $3, error_id = $4, error_message = $5, lease_owner = NULL, lease_expires_at = NULL",
            [delay, (object?)errorId ?? DBNull.Value, (object?)message ?? DBNull.Value], ct));

    private async ValueTask<TaskResponse?> UpdateAsync(ClaimedTask task, string assignments, object[] values, CancellationToken ct)
    {
        // Every change is guarded by the lease: a cancelled task or one another instance took over is never overwritten.
        var updated = await db.ExecuteAsync(static async (command, s, ct) =>
        {
            command.CommandText = $"""
                UPDATE content_tasks SET {s.assignments}, updated_at = now()
                WHERE id = $1 AND lease_owner = $2 AND status = 'running'
                RETURNING {TaskRepository.Columns}
                """;
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = s.task.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.task.Owner });
            foreach (var value in s.values)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            return await TaskRepository.ReadOneAsync(command, ct);
        }, (task, assignments, values), DbCallOptions.Idempotent, ct);
        if (updated is not null)
        {
            Publish(updated);
        }

        return updated;
    }

    private void Publish(TaskResponse task) =>
        events.Publish(new TaskEvent(task.Id, task.Status, task.Stage, task.Progress, task.ErrorId, time.GetUtcNow()));

    private static string Prefixed(string alias) => alias + TaskRepository.Columns.Replace(", ", ", " + alias, StringComparison.Ordinal);

    private static async ValueTask DiscardAsync<T>(ValueTask<T> call) => await call;
}
