using Npgsql;
using Resilience.Failures;

namespace Resilience.Npgsql;

/// <summary>Classifies Npgsql and PostgreSQL errors into <see cref="FailureKind"/>.</summary>
/// <remarks>
/// Built on Npgsql's own <see cref="NpgsqlException.IsTransient"/>, corrected where a blind retry would be wrong:
/// a statement timeout (57014) is a <see cref="FailureKind.Timeout"/>, and an exhausted pool is
/// <see cref="FailureKind.Unavailable"/> (retrying at once only queues again).
/// </remarks>
public static class PostgresFailureClassifier
{
    /// <summary>Returns the failure kind of <paramref name="exception"/>.</summary>
    /// <param name="exception">An exception raised by Npgsql (or any exception; others classify as <see cref="FailureKind.Permanent"/>).</param>
    /// <returns>The failure kind.</returns>
    public static FailureKind Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            PostgresException pg => ClassifySqlState(pg.SqlState, pg.IsTransient),
            NpgsqlException { InnerException: TimeoutException } => FailureKind.Unavailable,
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
            "08P01" or "25P03" or "25P04" or "57P05" or "25006" or "53300" or "57P01" or "57P02" or "57P03" => FailureKind.Unavailable,
            "23505" or "23503" => FailureKind.Conflict,
            "23502" or "23514" => FailureKind.InvalidInput,
            _ when sqlState.StartsWith("22", StringComparison.Ordinal) => FailureKind.InvalidInput,
            _ when sqlState.StartsWith("28", StringComparison.Ordinal) => FailureKind.Configuration,
            _ when sqlState.StartsWith("42", StringComparison.Ordinal) => FailureKind.Permanent,
            _ when sqlState.StartsWith("08", StringComparison.Ordinal) || sqlState.StartsWith("53", StringComparison.Ordinal) => FailureKind.Unavailable,
            _ => isTransient ? FailureKind.Transient : FailureKind.Permanent,
        };
    }
}
