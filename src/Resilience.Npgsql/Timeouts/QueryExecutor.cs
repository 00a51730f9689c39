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
    /// <remarks>
    /// One implementation for both APIs (Npgsql's <c>bool async</c> idiom): with <paramref name="async"/> <see langword="false"/>
    /// every call is Npgsql's synchronous one and the returned task has completed (<see cref="SyncOrAsync.Wait{TResult}"/>), so a
    /// synchronous call resolves a lost COMMIT and honours its token exactly as an asynchronous one.
    /// </remarks>
    /// <returns>The operation's result.</returns>
    /// <exception cref="DatabaseException">Any database failure, translated (a timeout is <see cref="FailureKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (never translated).</exception>
    public static async ValueTask<TResult> ExecuteOnceAsync<TState, TResult>(
        bool async,
        NpgsqlDataSource dataSource,
        QueryTimeoutOptions timeouts,
        AcquireWaitRecorder? acquireWaits,
        TimeProvider timeProvider,
        DbOperation<TState, TResult> operation,
        TState state,
        CancellationToken cancellationToken,
        IsolationLevel isolationLevel = IsolationLevel.Unspecified,
        bool idempotent = false,
        CallShape shape = CallShape.TransactionWithLimits,
        FoldedStatement<TResult>? statement = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        NpgsqlConnection connection;
        var started = timeProvider.GetTimestamp();
        var waiting = acquireWaits?.BeginWait(started) ?? -1;
        try
        {
            // The synchronous open watches no token: it is bounded by the data source's connection timeout.
            connection = await SyncOrAsync.OpenConnection(async, dataSource, cancellationToken).ConfigureAwait(false);
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
        try
        {
            if (shape is CallShape.Autocommit or CallShape.AutocommitWithLimits)
            {
                var withLimits = shape == CallShape.AutocommitWithLimits;
                if (withLimits)
                {
                    var set = CreateSessionLimits(connection, timeouts);
                    try
                    {
                        await SyncOrAsync.ExecuteNonQuery(async, set, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        await SyncOrAsync.Dispose(async, set).ConfigureAwait(false);
                    }
                }

                // Each statement commits by itself: once sent, a write not marked idempotent may have taken effect.
                phase = idempotent ? Phase.Operation : Phase.Commit;
                var autocommit = new NpgsqlCommand(null, connection) { CommandTimeout = timeouts.CommandTimeoutSeconds };
                try
                {
                    return await operation.InvokeAsync(autocommit, state, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    if (withLimits && connection.FullState == ConnectionState.Open)
                    {
                        var reset = new NpgsqlCommand(ResetSessionLimitsSql, connection);
                        try
                        {
                            await SyncOrAsync.ExecuteNonQuery(async, reset, CancellationToken.None).ConfigureAwait(false);
                        }
                        finally
                        {
                            await SyncOrAsync.Dispose(async, reset).ConfigureAwait(false);
                        }
                    }

                    await SyncOrAsync.Dispose(async, autocommit).ConfigureAwait(false);
                }
            }

            // BEGIN is sent with the first statement (Npgsql pipelines it): no round trip of its own.
            var transaction = await SyncOrAsync.BeginTransaction(async, connection, isolationLevel, cancellationToken).ConfigureAwait(false);
            try
            {
                long? transactionId = null;
                TResult result;
                if (statement is not null && !idempotent)
                {
                    // One round trip for BEGIN, the limits, the statement and its transaction id; COMMIT is the only other.
                    phase = Phase.Operation;
                    (result, transactionId) = await RunFoldedAsync(async, connection, transaction, timeouts, shape == CallShape.TransactionWithLimits, statement, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    if (shape == CallShape.TransactionWithLimits || !idempotent)
                    {
                        // A write that may not be repeated learns its transaction id (pipelined with BEGIN and the limits), so a
                        // failure while COMMIT is in flight can be resolved by asking the server (pg_xact_status).
                        var setup = CreateSetup(connection, transaction, timeouts, shape == CallShape.TransactionWithLimits, withTransactionId: !idempotent);
                        try
                        {
                            var id = await SyncOrAsync.ExecuteScalar(async, setup, cancellationToken).ConfigureAwait(false);
                            transactionId = idempotent ? null : Convert.ToInt64(id, CultureInfo.InvariantCulture);
                        }
                        finally
                        {
                            await SyncOrAsync.Dispose(async, setup).ConfigureAwait(false);
                        }
                    }

                    phase = Phase.Operation;
                    var command = new NpgsqlCommand(null, connection, transaction) { CommandTimeout = timeouts.CommandTimeoutSeconds };
                    try
                    {
                        result = await operation.InvokeAsync(command, state, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        await SyncOrAsync.Dispose(async, command).ConfigureAwait(false);
                    }
                }

                // Past the deadline (or cancelled by the caller) the transaction rolls back instead of committing late.
                cancellationToken.ThrowIfCancellationRequested();
                phase = Phase.Commit;
                try
                {
                    await SyncOrAsync.Commit(async, transaction).ConfigureAwait(false);
                }
                catch (Exception ex) when (!idempotent && transactionId is { } xid
                    && IsCommitOutcomeUncertain(ex, PostgresFailureClassifier.Classify(ex)))
                {
                    // Ask the server what became of the transaction instead of reporting an unknown outcome.
                    switch (await TransactionStatusAsync(async, dataSource, xid, timeProvider).ConfigureAwait(false))
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
            finally
            {
                await SyncOrAsync.Dispose(async, transaction).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsTranslatable(ex, cancellationToken))
        {
            // Disposing the transaction rolled it back (or the connection broke and Npgsql discards it); either way
            // the pool gets back a usable connection or none, never one with our settings still in force.
            throw Translate(ex, timeouts, phase, idempotent);
        }
        finally
        {
            await SyncOrAsync.Dispose(async, connection).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="statement"/> and <c>SELECT pg_current_xact_id()</c> (after the limits, when set per call) as one batch.</summary>
    /// <remarks>
    /// A statement with parameters goes as one batch command (PostgreSQL binds parameters to a single statement). One without goes
    /// as a command text Npgsql splits into its statements, so <c>DROP …; CREATE …</c> is one batch too: every statement in the
    /// call's transaction, each under the statement timeout, classified as one call.
    /// </remarks>
    /// <returns>The statement's result and the transaction id.</returns>
    private static async ValueTask<(TResult Result, long TransactionId)> RunFoldedAsync<TResult>(
        bool async, NpgsqlConnection connection, NpgsqlTransaction transaction, QueryTimeoutOptions timeouts, bool withLimits, FoldedStatement<TResult> statement, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        NpgsqlCommand? command = null;
        NpgsqlBatch? batch = null;
        NpgsqlBatchCommand? user = null;
        if (statement.Parameters.Count == 0)
        {
            var text = withLimits
                ? string.Concat(LimitsLiteralSql(timeouts), ";\n", statement.Sql, "\n;", TransactionIdSql)
                : string.Concat(statement.Sql, "\n;", TransactionIdSql);
            command = new NpgsqlCommand(text, connection, transaction) { CommandTimeout = timeouts.CommandTimeoutSeconds };
        }
        else
        {
            batch = new NpgsqlBatch(connection, transaction) { Timeout = timeouts.CommandTimeoutSeconds };
            if (withLimits)
            {
                var limits = new NpgsqlBatchCommand(SetTimeoutsSql);
                AddLimits(limits.Parameters, timeouts);
                batch.BatchCommands.Add(limits);
            }

            user = statement.CreateBatchCommand();
            batch.BatchCommands.Add(user);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(TransactionIdSql));
        }

        var cancellation = async ? default : command is not null ? SyncCancellation.Register(command, cancellationToken) : SyncCancellation.Register(batch!, cancellationToken);
        NpgsqlDataReader? reader = null;
        try
        {
            reader = command is not null
                ? async ? await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false) : command.ExecuteReader()
                : async ? await batch!.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false) : batch!.ExecuteReader();

            // The reader skips statements without a result set (an INSERT without RETURNING), so the sets are counted: the
            // limits' set comes first when sent, the transaction id's last; the statement's first set, if any, follows the limits.
            var leading = withLimits ? 1 : 0;
            var sets = 0;
            object? first = null;
            object? last = null;
            do
            {
                object? value = null;
                if (await SyncOrAsync.Read(async, reader, cancellationToken).ConfigureAwait(false) && reader.FieldCount > 0
                    && !await SyncOrAsync.IsDBNull(async, reader, 0, cancellationToken).ConfigureAwait(false))
                {
                    value = reader.GetValue(0);
                }

                if (sets == leading)
                {
                    first = value;
                }

                last = value;
                sets++;
            }
            while (await SyncOrAsync.NextResult(async, reader, cancellationToken).ConfigureAwait(false));

            // Rows affected count INSERT/UPDATE/DELETE/MERGE/COPY only, so the limits' and the transaction id's SELECTs add nothing.
            long rows = user is not null ? user.RecordsAffected : reader.RecordsAffected;
            var projected = statement.Project(rows > int.MaxValue ? int.MaxValue : (int)rows, sets > leading + 1 ? first : null);
            return (projected, Convert.ToInt64(last, CultureInfo.InvariantCulture));
        }
        finally
        {
            cancellation.Dispose();
            if (reader is not null)
            {
                await SyncOrAsync.Dispose(async, reader).ConfigureAwait(false);
            }

            if (command is not null)
            {
                await SyncOrAsync.Dispose(async, command).ConfigureAwait(false);
            }
            else
            {
                await SyncOrAsync.Dispose(async, batch!).ConfigureAwait(false);
            }
        }
    }

    private static string LimitsLiteralSql(QueryTimeoutOptions timeouts) => string.Create(
        CultureInfo.InvariantCulture,
        $"SELECT set_config('statement_timeout', '{Milliseconds(timeouts.StatementTimeout)}', true), set_config('lock_timeout', '{Milliseconds(timeouts.EffectiveLockTimeout)}', true)");

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
