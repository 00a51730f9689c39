using System.Data;
using System.Globalization;
using Npgsql;
using Resilience.Failures;

namespace Resilience.Npgsql;

/// <summary>Runs one attempt of a database call under <see cref="QueryTimeoutOptions"/>, translating its failures.</summary>
/// <remarks>
/// The attempt knows how far it got, which decides whether its failure is safe to retry: before the caller's command was
/// sent (<see cref="Phase.Setup"/>), while it ran inside the still-uncommitted transaction (<see cref="Phase.Operation"/>:
/// the server rolls it back), or while the <c>COMMIT</c> was in flight (<see cref="Phase.Commit"/>): only then can a lost
/// reply leave the outcome unknown.
/// </remarks>
internal static partial class QueryExecutor
{
    // Each returns the transaction id last (pg_current_xact_id assigns one), so one scalar read serves both.
    private const string SetTimeoutsSql = "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)";
    private const string SetTimeoutsWithIdSql = "SELECT pg_current_xact_id()::text::bigint, set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)";
    private const string SessionLimitsSql = "SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $2, false)";
    private const string ResetSessionLimitsSql = "RESET statement_timeout; RESET lock_timeout";
    private const string TransactionIdSql = "SELECT pg_current_xact_id()::text::bigint";

    internal enum Phase
    {
        Setup,
        Operation,
        Commit,
    }

    /// <summary>How an attempt talks to the server, from the cheapest.</summary>
    internal enum CallShape
    {
        /// <summary>No transaction of ours: the connection starts with the call's limits; each statement commits by itself.</summary>
        Autocommit,

        /// <summary>No transaction of ours, the call's limits set for the session first and reset afterwards.</summary>
        AutocommitWithLimits,

        /// <summary>A transaction of its own; the connection starts with the call's limits.</summary>
        Transaction,

        /// <summary>A transaction of its own that first sets the call's limits local to it (one more round trip).</summary>
        TransactionWithLimits,
    }

    /// <summary>
    /// Opens a pooled connection, begins a transaction, sets <c>statement_timeout</c>/<c>lock_timeout</c> local to it, runs
    /// <paramref name="operation"/> with a command bound to that transaction (its <see cref="NpgsqlCommand.CommandTimeout"/> set
    /// to the statement timeout plus the margin) and commits. This is the unit a retry and a circuit breaker wrap.
    /// </summary>
    /// <returns>The operation's result.</returns>
    /// <exception cref="DatabaseException">Any database failure, translated (a timeout is <see cref="FailureKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (never translated).</exception>
    public static async ValueTask<TResult> ExecuteOnceAsync<TState, TResult>(
        NpgsqlDataSource dataSource,
        QueryTimeoutOptions timeouts,
        AcquireWaitRecorder? acquireWaits,
        TimeProvider timeProvider,
        Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        CancellationToken cancellationToken,
        IsolationLevel isolationLevel = IsolationLevel.Unspecified,
        bool idempotent = false,
        CallShape shape = CallShape.TransactionWithLimits,
        FoldedStatement<TResult>? statement = null)
    {
        NpgsqlConnection connection;
        var started = timeProvider.GetTimestamp();
        var waiting = acquireWaits?.BeginWait(started) ?? -1;
        try
        {
            connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTranslatable(ex, cancellationToken))
        {
            RecordFailedAcquire(acquireWaits, ex, timeProvider.GetElapsedTime(started));
            throw Translate(ex, timeouts, Phase.Setup, idempotent);
        }
        finally
        {
            acquireWaits?.EndWait(waiting);
        }

        acquireWaits?.Record(timeProvider.GetElapsedTime(started));
        var phase = Phase.Setup;
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                if (shape is CallShape.Autocommit or CallShape.AutocommitWithLimits)
                {
                    var withLimits = shape == CallShape.AutocommitWithLimits;
                    if (withLimits)
                    {
                        var set = CreateSessionLimits(connection, timeouts);
                        await using (set.ConfigureAwait(false))
                        {
                            await set.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }

                    // Each statement commits by itself: once sent, a write not marked idempotent may have taken effect.
                    phase = idempotent ? Phase.Operation : Phase.Commit;
                    var autocommit = new NpgsqlCommand(null, connection) { CommandTimeout = timeouts.CommandTimeoutSeconds };
                    await using (autocommit.ConfigureAwait(false))
                    {
                        try
                        {
                            return await operation(autocommit, state, cancellationToken).ConfigureAwait(false);
                        }
                        finally
                        {
                            if (withLimits && connection.FullState == ConnectionState.Open)
                            {
                                var reset = new NpgsqlCommand(ResetSessionLimitsSql, connection);
                                await using (reset.ConfigureAwait(false))
                                {
                                    await reset.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                                }
                            }
                        }
                    }
                }

                // BEGIN is sent with the first statement (Npgsql pipelines it): no round trip of its own.
                var transaction = await connection.BeginTransactionAsync(isolationLevel, cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var commandTimeout = timeouts.CommandTimeoutSeconds;
                    long? transactionId = null;
                    TResult result;
                    if (statement is not null && !idempotent)
                    {
                        // One round trip for BEGIN, the limits, the statement and its transaction id; COMMIT is the only other.
                        phase = Phase.Operation;
                        (result, transactionId) = await RunFoldedAsync(connection, transaction, timeouts, shape == CallShape.TransactionWithLimits, statement, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        if (shape == CallShape.TransactionWithLimits || !idempotent)
                        {
                            // A write that may not be repeated learns its transaction id (pipelined with BEGIN and the limits), so a
                            // failure while COMMIT is in flight can be resolved by asking the server (pg_xact_status).
                            var setup = CreateSetup(connection, transaction, timeouts, shape == CallShape.TransactionWithLimits, withTransactionId: !idempotent);
                            await using (setup.ConfigureAwait(false))
                            {
                                var id = await setup.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                                transactionId = idempotent ? null : Convert.ToInt64(id, CultureInfo.InvariantCulture);
                            }
                        }

                        phase = Phase.Operation;
                        var command = new NpgsqlCommand(null, connection, transaction) { CommandTimeout = commandTimeout };
                        await using (command.ConfigureAwait(false))
                        {
                            result = await operation(command, state, cancellationToken).ConfigureAwait(false);
                        }
                    }

                    // Once COMMIT is on the wire we wait for its answer instead of abandoning it: cancelling it would turn a
                    // caller's impatience into an unknown outcome. It is bounded by the connection's command timeout.
                    cancellationToken.ThrowIfCancellationRequested();
                    phase = Phase.Commit;
                    try
                    {
                        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (!idempotent && transactionId is { } xid
                        && IsCommitOutcomeUncertain(ex, PostgresFailureClassifier.Classify(ex)))
                    {
                        // Ask the server what became of the transaction instead of reporting an unknown outcome.
                        switch (await TransactionStatusAsync(dataSource, xid, timeProvider).ConfigureAwait(false))
                        {
                            case "committed":
                                return result;
                            case "aborted":
                                phase = Phase.Operation; // rolled back: as safe to retry as a failure before COMMIT
                                break;
                        }

                        throw;
                    }

                    return result;
                }
            }
            catch (Exception ex) when (IsTranslatable(ex, cancellationToken))
            {
                // Disposing the transaction rolled it back (or the connection broke and Npgsql discards it); either way
                // the pool gets back a usable connection or none, never one with our settings still in force.
                throw Translate(ex, timeouts, phase, idempotent);
            }
        }
    }

    /// <summary>Runs <paramref name="statement"/> and <c>SELECT pg_current_xact_id()</c> (after the limits, when set per call) as one batch.</summary>
    /// <returns>The statement's result and the transaction id.</returns>
    private static async ValueTask<(TResult Result, long TransactionId)> RunFoldedAsync<TResult>(
        NpgsqlConnection connection, NpgsqlTransaction transaction, QueryTimeoutOptions timeouts, bool withLimits, FoldedStatement<TResult> statement, CancellationToken cancellationToken)
    {
        var batch = new NpgsqlBatch(connection, transaction) { Timeout = timeouts.CommandTimeoutSeconds };
        await using (batch.ConfigureAwait(false))
        {
            if (withLimits)
            {
                var limits = new NpgsqlBatchCommand(SetTimeoutsSql);
                AddLimits(limits.Parameters, timeouts);
                batch.BatchCommands.Add(limits);
            }

            var user = statement.CreateBatchCommand();
            batch.BatchCommands.Add(user);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(TransactionIdSql));
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                // The reader skips statements without a result set (an INSERT without RETURNING), so the sets are counted:
                // the transaction id is the last; the statement's own set, when it has one, the one before.
                var sets = 0;
                object? previous = null;
                object? last = null;
                do
                {
                    object? value = null;
                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && reader.FieldCount > 0
                        && !await reader.IsDBNullAsync(0, cancellationToken).ConfigureAwait(false))
                    {
                        value = reader.GetValue(0);
                    }

                    (previous, last) = (last, value);
                    sets++;
                }
                while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));

                var first = sets == (withLimits ? 3 : 2) ? previous : null;
                var rows = user.RecordsAffected > int.MaxValue ? int.MaxValue : (int)user.RecordsAffected;
                return (statement.Project(rows, first), Convert.ToInt64(last, CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>The synchronous twin of <see cref="ExecuteOnceAsync"/>, on Npgsql's synchronous I/O.</summary>
    /// <returns>The operation's result.</returns>
    public static TResult ExecuteOnce<TState, TResult>(
        NpgsqlDataSource dataSource,
        QueryTimeoutOptions timeouts,
        AcquireWaitRecorder? acquireWaits,
        TimeProvider timeProvider,
        Func<NpgsqlCommand, TState, TResult> operation,
        TState state,
        CancellationToken cancellationToken,
        IsolationLevel isolationLevel = IsolationLevel.Unspecified,
        bool idempotent = false,
        CallShape shape = CallShape.TransactionWithLimits)
    {
        cancellationToken.ThrowIfCancellationRequested();
        NpgsqlConnection connection;
        var started = timeProvider.GetTimestamp();
        var waiting = acquireWaits?.BeginWait(started) ?? -1;
        try
        {
            connection = dataSource.OpenConnection();
        }
        catch (Exception ex) when (IsTranslatable(ex, cancellationToken))
        {
            RecordFailedAcquire(acquireWaits, ex, timeProvider.GetElapsedTime(started));
            throw Translate(ex, timeouts, Phase.Setup, idempotent);
        }
        finally
        {
            acquireWaits?.EndWait(waiting);
        }

        acquireWaits?.Record(timeProvider.GetElapsedTime(started));
        var phase = Phase.Setup;
        using (connection)
        {
            try
            {
                if (shape is CallShape.Autocommit or CallShape.AutocommitWithLimits)
                {
                    var withLimits = shape == CallShape.AutocommitWithLimits;
                    if (withLimits)
                    {
                        using var set = CreateSessionLimits(connection, timeouts);
                        set.ExecuteNonQuery();
                    }

                    phase = idempotent ? Phase.Operation : Phase.Commit;
                    using var autocommit = new NpgsqlCommand(null, connection) { CommandTimeout = timeouts.CommandTimeoutSeconds };
                    try
                    {
                        return operation(autocommit, state);
                    }
                    finally
                    {
                        if (withLimits && connection.FullState == ConnectionState.Open)
                        {
                            using var reset = new NpgsqlCommand(ResetSessionLimitsSql, connection);
                            reset.ExecuteNonQuery();
                        }
                    }
                }

                using var transaction = connection.BeginTransaction(isolationLevel);
                if (shape == CallShape.TransactionWithLimits)
                {
                    using var setup = CreateSetup(connection, transaction, timeouts, withLimits: true, withTransactionId: false);
                    setup.ExecuteNonQuery();
                }

                phase = Phase.Operation;
                TResult result;
                using (var command = new NpgsqlCommand(null, connection, transaction) { CommandTimeout = timeouts.CommandTimeoutSeconds })
                {
                    result = operation(command, state);
                }

                cancellationToken.ThrowIfCancellationRequested();
                phase = Phase.Commit;
                transaction.Commit();
                return result;
            }
            catch (Exception ex) when (IsTranslatable(ex, cancellationToken))
            {
                throw Translate(ex, timeouts, phase, idempotent);
            }
        }
    }

    private static NpgsqlCommand CreateSessionLimits(NpgsqlConnection connection, QueryTimeoutOptions timeouts)
    {
        var set = new NpgsqlCommand(SessionLimitsSql, connection) { CommandTimeout = timeouts.CommandTimeoutSeconds };
        AddLimits(set.Parameters, timeouts);
        return set;
    }

    private static void AddLimits(NpgsqlParameterCollection parameters, QueryTimeoutOptions timeouts)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = Milliseconds(timeouts.StatementTimeout) });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = Milliseconds(timeouts.EffectiveLockTimeout) });
    }

    private static NpgsqlCommand CreateSetup(NpgsqlConnection connection, NpgsqlTransaction transaction, QueryTimeoutOptions timeouts, bool withLimits, bool withTransactionId)
    {
        var sql = withLimits ? (withTransactionId ? SetTimeoutsWithIdSql : SetTimeoutsSql) : TransactionIdSql;
        var setup = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = timeouts.CommandTimeoutSeconds };
        if (withLimits)
        {
            AddLimits(setup.Parameters, timeouts);
        }

        return setup;
    }

    // A caller who waited the whole acquire timeout and got nothing waited longest of all: leaving it out would hide exhaustion.
    private static void RecordFailedAcquire(AcquireWaitRecorder? acquireWaits, Exception exception, TimeSpan waited)
    {
        if (acquireWaits is not null && PostgresFailureClassifier.IsPoolExhausted(exception))
        {
            acquireWaits.Record(waited);
        }
    }

    // The caller's own cancellation propagates untouched; everything else becomes a DatabaseException.
    private static bool IsTranslatable(Exception exception, CancellationToken cancellationToken) =>
        !(exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        && exception is not DatabaseException
        && exception is not OutOfMemoryException;

    private static string Milliseconds(TimeSpan value) =>
        ((long)Math.Ceiling(value.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
}
