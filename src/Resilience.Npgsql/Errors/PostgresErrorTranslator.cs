using System.Globalization;
using Npgsql;
using Resilience.Failures;

namespace Resilience.Npgsql;

/// <summary>Turns Npgsql and PostgreSQL errors into <see cref="DatabaseException"/>s with sanitized messages and stable error IDs.</summary>
/// <remarks>
/// Messages are written here from the SQLSTATE and a few schema names (constraint, column); the server's message text,
/// detail, hint, query and parameters are never copied, because they can contain user data.
/// </remarks>
public static class PostgresErrorTranslator
{
    /// <summary>Translates <paramref name="exception"/>; a <see cref="DatabaseException"/> is returned as it is.</summary>
    /// <param name="exception">The error raised by Npgsql (any exception is accepted).</param>
    /// <returns>The translated exception, with <paramref name="exception"/> as its inner exception.</returns>
    public static DatabaseException Translate(Exception exception) => Translate(exception, timeouts: null, duringOpen: false);

    internal static DatabaseException Translate(Exception exception, QueryTimeoutOptions? timeouts, bool duringOpen)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is DatabaseException translated)
        {
            return translated;
        }

        var kind = PostgresFailureClassifier.Classify(exception);
        var beforeSend = duringOpen || PostgresFailureClassifier.FailedBeforeSend(exception);
        var sqlState = (exception as PostgresException)?.SqlState;
        var message = exception switch
        {
            PostgresException pg => Describe(pg, timeouts),
            NpgsqlException npgsql when PostgresFailureClassifier.IsPoolExhausted(npgsql) =>
                "No database connection became available in time: the connection pool is exhausted.",
            NpgsqlException { InnerException: TimeoutException } => timeouts is null
                ? "The database command did not complete within the client command timeout."
                : Format("The database command did not complete within the client command timeout ({0} s).", timeouts.CommandTimeoutSeconds),
            NpgsqlException when beforeSend => "The database connection could not be opened.",
            NpgsqlException => "The database connection failed.",
            TimeoutException => "The database operation timed out.",
            _ => "An unexpected database error occurred.",
        };
        return new DatabaseException(message, kind, ErrorIds.For(kind, dependencyIsDatabase: true), sqlState, beforeSend, exception);
    }

    private static string Describe(PostgresException pg, QueryTimeoutOptions? timeouts)
    {
        var state = pg.SqlState;
        switch (state)
        {
            case "57014" when pg.MessageText.Contains("statement timeout", StringComparison.Ordinal):
                return timeouts is null
                    ? "The query exceeded the statement timeout and was stopped by the server."
                    : Format("The query exceeded the statement timeout (statement_timeout = {0} ms) and was stopped by the server.", Ms(timeouts.StatementTimeout));
            case "57014":
                return "The query was cancelled.";
            case "55P03" when pg.MessageText.Contains("lock timeout", StringComparison.Ordinal):
                return timeouts is null
                    ? "A lock could not be acquired within the lock timeout; the transaction may be run again."
                    : Format("A lock could not be acquired within the lock timeout (lock_timeout = {0} ms); the transaction may be run again.", Ms(timeouts.EffectiveLockTimeout));
            case "55P03":
                return "A lock was not available; the transaction may be run again.";
            case "40001":
                return "The transaction could not be serialized with concurrent transactions; it may be run again.";
            case "40P01":
                return "The transaction was chosen as a deadlock victim; it may be run again.";
            case "23505":
                return WithName("An item with the same key already exists", "constraint", pg.ConstraintName);
            case "23503":
                return WithName("The change refers to an item that does not exist, or removes one that is still referenced", "constraint", pg.ConstraintName);
            case "23502":
                return WithName("A required value is missing", "column", pg.ColumnName);
            case "23514":
                return WithName("A value breaks a validation rule", "constraint", pg.ConstraintName);
            case "25006":
                return "The database is read-only at the moment.";
            case "53300":
                return "The database has no free connection slots.";
            case "23P01":
                return WithName("The change conflicts with an existing item", "exclusion constraint", pg.ConstraintName);
            case "23001":
                return WithName("The change removes an item that is still referenced", "constraint", pg.ConstraintName);
            case "40003":
                return "The database could not tell whether the statement completed: it may or may not have taken effect.";
            case "42601" when pg.MessageText.Contains("multiple commands", StringComparison.Ordinal):
                return "Several statements were sent as one command with parameters; PostgreSQL binds parameters to a single statement (SQLSTATE 42601): run them as separate commands or as an NpgsqlBatch.";
            case "08P01":
                return "The database rejected a malformed protocol message (a client or driver fault, e.g. too many parameters).";
            case "53100":
                return "The database has run out of disk space.";
            case "57P01":
                // Sent both for pg_terminate_backend on a live server and for a shutdown: say what is certain.
                return "The database server terminated the connection (an administrator command or a shutdown); the call may be run again on a new connection.";
            case "57P02":
                return "The database server terminated the connection after another server process crashed.";
            case "57P03":
                return "The database server is starting up or shutting down and does not accept connections yet.";
        }

        return state[..2] switch
        {
            "22" => Format("A value has an invalid format or is out of range (SQLSTATE {0}).", state),
            "28" => "The database rejected the credentials.",
            "42" => Format("The database rejected the statement as invalid (SQLSTATE {0}); this is a defect, not a transient failure.", state),
            "08" => "The database connection failed.",
            "25" => Format("The transaction is in a state that does not allow this command (SQLSTATE {0}).", state),
            "53" => "The database ran out of resources.",
            _ => Format("A database error occurred (SQLSTATE {0}).", state),
        };
    }

    private static string WithName(string sentence, string what, string? name) =>
        string.IsNullOrEmpty(name) ? sentence + "." : Format("{0} ({1} '{2}').", sentence, what, name);

    private static long Ms(TimeSpan value) => (long)value.TotalMilliseconds;

    private static string Format(string format, params object?[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
