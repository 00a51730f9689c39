using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Failures;

namespace Resilience.Npgsql;

/// <summary>Classifies Npgsql and PostgreSQL errors into <see cref="FailureKind"/>.</summary>
/// <remarks>
/// Built on Npgsql's own <see cref="NpgsqlException.IsTransient"/>, corrected where a blind retry would be wrong:
/// a statement timeout (57014) and a client command timeout are <see cref="FailureKind.Timeout"/> (the statement may have
/// had effects), an exhausted pool is <see cref="FailureKind.Unavailable"/> (retrying at once only queues again), and
/// serialization failures and deadlocks are <see cref="FailureKind.Transient"/> only in the sense that the whole
/// transaction may be run again. The table in the package README lists every code.
/// </remarks>
public static class PostgresFailureClassifier
{
    // Npgsql's wording (not localized) for an acquire that timed out; the inner TimeoutException alone is ambiguous because
    // a client-side command timeout is also an NpgsqlException over a TimeoutException.
    private const string PoolExhaustedPrefix = "The connection pool has been exhausted";
    private const string ConnectFailedPrefix = "Failed to connect to";

    /// <summary>Returns the failure kind of <paramref name="exception"/>.</summary>
    /// <param name="exception">An exception raised by Npgsql (or any exception; others classify as <see cref="FailureKind.Permanent"/>).</param>
    /// <returns>The failure kind.</returns>
    public static FailureKind Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            DatabaseException translated => translated.FailureKind,
            PostgresException pg => ClassifySqlState(pg.SqlState, pg.IsTransient),
            NpgsqlException npgsql when IsPoolExhausted(npgsql) => FailureKind.Unavailable,
            NpgsqlException npgsql when IsConnectFailure(npgsql) => FailureKind.Unavailable,
            NpgsqlException { InnerException: TimeoutException } => FailureKind.Timeout,
            NpgsqlException npgsql => npgsql.IsTransient ? FailureKind.Transient : FailureKind.Permanent,
            TimeoutException => FailureKind.Timeout,
            _ => FailureKind.Permanent,
        };
    }

    /// <summary>Returns the failure kind of a PostgreSQL SQLSTATE code.</summary>
    /// <param name="sqlState">The five-character SQLSTATE, e.g. <c>23505</c>.</param>
    /// <param name="isTransient">What the driver reports as transient, used for codes not listed explicitly.</param>
    /// <returns>The failure kind.</returns>
    public static FailureKind ClassifySqlState(string sqlState, bool isTransient = false)
    {
        ArgumentNullException.ThrowIfNull(sqlState);
        return sqlState switch
        {
            "57014" => FailureKind.Timeout,
            "40001" or "40P01" or "55P03" => FailureKind.Transient,
            "40003" => FailureKind.UnknownOutcome,

            // A protocol violation is a client or driver bug (e.g. more parameters than the protocol allows): not an outage.
            "08P01" => FailureKind.Permanent,
            "25P03" or "25P04" or "57P05" or "25006" or "53300" or "57P01" or "57P02" or "57P03" => FailureKind.Unavailable,
            "23505" or "23503" or "23P01" or "23001" => FailureKind.Conflict,
            "23502" or "23514" => FailureKind.InvalidInput,
            _ when sqlState.StartsWith("22", StringComparison.Ordinal) => FailureKind.InvalidInput,
            _ when sqlState.StartsWith("28", StringComparison.Ordinal) => FailureKind.Configuration,
            _ when sqlState.StartsWith("42", StringComparison.Ordinal) => FailureKind.Permanent,
            _ when sqlState.StartsWith("08", StringComparison.Ordinal) || sqlState.StartsWith("53", StringComparison.Ordinal) => FailureKind.Unavailable,
            _ => isTransient ? FailureKind.Transient : FailureKind.Permanent,
        };
    }

    /// <summary>Returns whether <paramref name="exception"/> means no pooled connection became free within the pool's <c>Timeout</c>.</summary>
    /// <param name="exception">The exception to inspect.</param>
    /// <returns><see langword="true"/> for Npgsql's "connection pool has been exhausted" error (not for a command timeout).</returns>
    public static bool IsPoolExhausted(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception is NpgsqlException { InnerException: TimeoutException } npgsql and not PostgresException
            && npgsql.Message.StartsWith(PoolExhaustedPrefix, StringComparison.Ordinal);
    }

    /// <summary>Returns whether <paramref name="exception"/> is PostgreSQL stopping a statement at its <c>statement_timeout</c> (57014).</summary>
    /// <param name="exception">An exception raised by Npgsql or a <see cref="DatabaseException"/>.</param>
    /// <returns><see langword="true"/> for a statement timeout; <see langword="false"/> for any other cancellation (e.g. a client command timeout).</returns>
    internal static bool IsStatementTimeout(Exception exception)
    {
        var inner = exception is DatabaseException { InnerException: { } original } ? original : exception;
        return inner is PostgresException { SqlState: "57014" } pg && pg.MessageText.Contains("statement timeout", StringComparison.Ordinal);
    }

    /// <summary>Returns whether <paramref name="exception"/> is a connection that could not be established: refused, unreachable, reset during start-up.</summary>
    private static bool IsConnectFailure(NpgsqlException exception) =>
        exception is not PostgresException && exception.Message.StartsWith(ConnectFailedPrefix, StringComparison.Ordinal);

    /// <summary>Returns whether <paramref name="exception"/> says the database itself is failing, so it should count against a circuit breaker.</summary>
    /// <param name="exception">An exception raised by Npgsql, a <see cref="DatabaseException"/> or a timeout.</param>
    /// <returns>
    /// <see langword="true"/> for <see cref="FailureKind.Unavailable"/>, <see cref="FailureKind.Timeout"/>,
    /// <see cref="FailureKind.UnknownOutcome"/> and <see cref="FailureKind.Transient"/> failures; <see langword="false"/> for
    /// the caller's faults (conflicts, invalid input, bugs), for serialization failures, deadlocks and lock timeouts
    /// (40001, 40P01, 55P03: contention on some rows, not an outage), for a statement stopped by its own
    /// <c>statement_timeout</c> (57014: a slow query, not a database that is down; slow-call detection, when configured,
    /// counts it), for an exhausted pool (the client is saturated; the server may be fine) and for a rejection by an open circuit.
    /// </returns>
    public static bool IsInfrastructureFailure(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var inner = exception is DatabaseException { InnerException: { } original } ? original : exception;
        if (inner is BrokenCircuitException || IsPoolExhausted(inner) || IsStatementTimeout(inner))
        {
            return false;
        }

        return Classify(exception) switch
        {
            FailureKind.Unavailable or FailureKind.Timeout or FailureKind.UnknownOutcome => true,
            FailureKind.Transient => SqlStateOf(exception) is not ("40001" or "40P01" or "55P03"),
            _ => false,
        };
    }

    /// <summary>Returns whether <paramref name="exception"/> is known to have happened before any command reached the server.</summary>
    /// <param name="exception">The exception to inspect.</param>
    /// <returns>
    /// <see langword="true"/> when the command certainly was not sent (pool exhausted, connection refused, authentication or
    /// connection-limit errors while opening); <see langword="false"/> when it was sent or that cannot be told.
    /// </returns>
    /// <remarks>Only a failure before sending makes retrying a non-idempotent write safe.</remarks>
    public static bool FailedBeforeSend(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            DatabaseException translated => translated.FailedBeforeSend,
            PostgresException pg => pg.SqlState is "08001" or "08004" or "53300" or "57P03" or "3D000"
                || pg.SqlState.StartsWith("28", StringComparison.Ordinal),
            NpgsqlException npgsql => IsPoolExhausted(npgsql) || npgsql.Message.StartsWith(ConnectFailedPrefix, StringComparison.Ordinal),
            _ => false,
        };
    }

    private static string? SqlStateOf(Exception exception) => exception switch
    {
        DatabaseException translated => translated.SqlState,
        PostgresException pg => pg.SqlState,
        _ => null,
    };
}
