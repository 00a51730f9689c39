using System.Globalization;
using Npgsql;

namespace Resilience.Npgsql;

/// <summary>Runs one attempt of a database call under <see cref="QueryTimeoutOptions"/>, translating its failures.</summary>
internal static class QueryExecutor
{
    private const string SetTimeoutsSql = "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)";

    /// <summary>
    /// Opens a pooled connection, begins a transaction, sets <c>statement_timeout</c>/<c>lock_timeout</c> local to it, runs
    /// <paramref name="operation"/> with a command bound to that transaction (its <see cref="NpgsqlCommand.CommandTimeout"/> set
    /// to the statement timeout plus the margin) and commits. This is the unit a retry and a circuit breaker wrap.
    /// </summary>
    /// <returns>The operation's result.</returns>
    /// <exception cref="DatabaseException">Any database failure, translated (a timeout is <see cref="Resilience.Failures.FailureKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (never translated).</exception>
    public static async ValueTask<TResult> ExecuteOnceAsync<TState, TResult>(
        NpgsqlDataSource dataSource,
        QueryTimeoutOptions timeouts,
        AcquireWaitRecorder? acquireWaits,
        TimeProvider timeProvider,
        Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        CancellationToken cancellationToken)
    {
        NpgsqlConnection connection;
        var started = timeProvider.GetTimestamp();
        try
        {
            connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTranslatable(ex, cancellationToken))
        {
            throw PostgresErrorTranslator.Translate(ex, timeouts, duringOpen: true);
        }

        acquireWaits?.Record(timeProvider.GetElapsedTime(started));
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (transaction.ConfigureAwait(false))
                {
                    var commandTimeout = timeouts.CommandTimeoutSeconds;
                    var setup = new NpgsqlCommand(SetTimeoutsSql, connection, transaction) { CommandTimeout = commandTimeout };
                    await using (setup.ConfigureAwait(false))
                    {
                        setup.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Milliseconds(timeouts.StatementTimeout) });
                        setup.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Milliseconds(timeouts.EffectiveLockTimeout) });
                        await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    TResult result;
                    var command = new NpgsqlCommand(null, connection, transaction) { CommandTimeout = commandTimeout };
                    await using (command.ConfigureAwait(false))
                    {
                        result = await operation(command, state, cancellationToken).ConfigureAwait(false);
                    }

                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    return result;
                }
            }
            catch (Exception ex) when (IsTranslatable(ex, cancellationToken))
            {
                // Disposing the transaction rolled it back (or the connection broke and Npgsql discards it); either way
                // the pool gets back a usable connection or none, never one with our settings still in force.
                throw PostgresErrorTranslator.Translate(ex, timeouts, duringOpen: false);
            }
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
