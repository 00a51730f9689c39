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
internal static class QueryExecutor
{
    private const string SetTimeoutsSql = "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)";

    internal enum Phase
    {
        Setup,
        Operation,
        Commit,
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
        bool idempotent = false)
    {
        NpgsqlConnection connection;
        var started = timeProvider.GetTimestamp();
        try
        {
            connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTranslatable(ex, cancellationToken))
        {
            throw Translate(ex, timeouts, Phase.Setup, idempotent);
        }

        acquireWaits?.Record(timeProvider.GetElapsedTime(started));
        var phase = Phase.Setup;
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                var transaction = await connection.BeginTransactionAsync(isolationLevel, cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var commandTimeout = timeouts.CommandTimeoutSeconds;
                    var setup = CreateSetup(connection, transaction, timeouts);
                    await using (setup.ConfigureAwait(false))
                    {
                        await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    phase = Phase.Operation;
                    TResult result;
                    var command = new NpgsqlCommand(null, connection, transaction) { CommandTimeout = commandTimeout };
                    await using (command.ConfigureAwait(false))
                    {
                        result = await operation(command, state, cancellationToken).ConfigureAwait(false);
                    }

                    // Once COMMIT is on the wire we wait for its answer instead of abandoning it: cancelling it would turn a
                    // caller's impatience into an unknown outcome. It is bounded by the connection's command timeout.
                    cancellationToken.ThrowIfCancellationRequested();
                    phase = Phase.Commit;
                    await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
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
        bool idempotent = false)
    {
        cancellationToken.ThrowIfCancellationRequested();
        NpgsqlConnection connection;
        var started = timeProvider.GetTimestamp();
        try
        {
            connection = dataSource.OpenConnection();
        }
        catch (Exception ex) when (IsTranslatable(ex, cancellationToken))
        {
            throw Translate(ex, timeouts, Phase.Setup, idempotent);
        }

        acquireWaits?.Record(timeProvider.GetElapsedTime(started));
        var phase = Phase.Setup;
        using (connection)
        {
            try
            {
                using var transaction = connection.BeginTransaction(isolationLevel);
                using (var setup = CreateSetup(connection, transaction, timeouts))
                {
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

    /// <summary>Translates a failure of an attempt that got as far as <paramref name="phase"/>.</summary>
    internal static DatabaseException Translate(Exception exception, QueryTimeoutOptions timeouts, Phase phase, bool idempotent)
    {
        var translated = PostgresErrorTranslator.Translate(exception, timeouts, duringOpen: phase == Phase.Setup);
        if (phase != Phase.Commit || !IsCommitOutcomeUncertain(exception, translated.FailureKind))
        {
            return translated;
        }

        if (idempotent)
        {
            // Running it again has the same effect, so an uncertain commit is retried like a lost connection.
            return translated.FailureKind == FailureKind.UnknownOutcome
                ? new DatabaseException(translated.Message, FailureKind.Transient, ErrorIds.DatabaseUnavailable, translated.SqlState, failedBeforeSend: false, exception)
                : translated;
        }

        return new DatabaseException(
            "The database connection failed while the transaction was committing: the write may or may not have taken effect; check before repeating it.",
            FailureKind.UnknownOutcome,
            ErrorIds.UnknownOutcome,
            translated.SqlState,
            failedBeforeSend: false,
            exception);
    }

    /// <summary>
    /// Whether a failure while <c>COMMIT</c> was in flight may have happened after the server committed. Only an
    /// ERROR-severity error from the server means it did not commit; a FATAL or PANIC (57P01/57P02: a backend terminated,
    /// e.g. after a local commit while waiting for synchronous replication), a connection error (08xxx, including 08007
    /// "transaction resolution unknown"), 40003 "statement completion unknown", a lost connection or a client timeout do not.
    /// </summary>
    internal static bool IsCommitOutcomeUncertain(Exception exception, FailureKind kind) => exception switch
    {
        PostgresException pg => pg.InvariantSeverity is not "ERROR"
            || pg.SqlState == "40003"
            || pg.SqlState.StartsWith("08", StringComparison.Ordinal),
        _ => kind is FailureKind.Transient or FailureKind.Unavailable or FailureKind.Timeout or FailureKind.UnknownOutcome,
    };

    private static NpgsqlCommand CreateSetup(NpgsqlConnection connection, NpgsqlTransaction transaction, QueryTimeoutOptions timeouts)
    {
        var setup = new NpgsqlCommand(SetTimeoutsSql, connection, transaction) { CommandTimeout = timeouts.CommandTimeoutSeconds };
        setup.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Milliseconds(timeouts.StatementTimeout) });
        setup.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Milliseconds(timeouts.EffectiveLockTimeout) });
        return setup;
    }

    // The caller's own cancellation propagates untouched; everything else becomes a DatabaseException.
    private static bool IsTranslatable(Exception exception, CancellationToken cancellationToken) =>
        !(exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        && exception is not DatabaseException
        && exception is not OutOfMemoryException;

    private static string Milliseconds(TimeSpan value) =>
        ((long)Math.Ceiling(value.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
}
