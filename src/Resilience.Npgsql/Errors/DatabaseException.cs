using Resilience.Failures;

namespace Resilience.Npgsql;

/// <summary>A database failure in a form safe to log and to map to a response: a kind, a stable error ID and a sanitized message.</summary>
/// <remarks>
/// The message never contains SQL text, parameter values, connection strings or row data from the server's detail; the
/// original exception stays as <see cref="Exception.InnerException"/> for logs. Created by <see cref="PostgresErrorTranslator"/>.
/// </remarks>
public sealed class DatabaseException : Exception
{
    private TimeSpan? _retryAfter;

    /// <summary>Creates an exception of kind <see cref="FailureKind.Permanent"/> with error ID <see cref="ErrorIds.Internal"/>.</summary>
    public DatabaseException()
        : this("A database error occurred.", FailureKind.Permanent, ErrorIds.Internal, sqlState: null, failedBeforeSend: false, innerException: null)
    {
    }

    /// <summary>Creates an exception of kind <see cref="FailureKind.Permanent"/> with error ID <see cref="ErrorIds.Internal"/>.</summary>
    /// <param name="message">The sanitized message.</param>
    public DatabaseException(string message)
        : this(message, FailureKind.Permanent, ErrorIds.Internal, sqlState: null, failedBeforeSend: false, innerException: null)
    {
    }

    /// <summary>Creates an exception of kind <see cref="FailureKind.Permanent"/> with error ID <see cref="ErrorIds.Internal"/>.</summary>
    /// <param name="message">The sanitized message.</param>
    /// <param name="innerException">The original error.</param>
    public DatabaseException(string message, Exception? innerException)
        : this(message, FailureKind.Permanent, ErrorIds.Internal, sqlState: null, failedBeforeSend: false, innerException)
    {
    }

    /// <summary>Creates an exception with every detail.</summary>
    /// <param name="message">The sanitized message.</param>
    /// <param name="failureKind">What kind of failure it is.</param>
    /// <param name="errorId">The stable error ID (see <see cref="ErrorIds"/>).</param>
    /// <param name="sqlState">The PostgreSQL SQLSTATE, when the server reported one.</param>
    /// <param name="failedBeforeSend">Whether the command certainly never reached the server.</param>
    /// <param name="innerException">The original error.</param>
    public DatabaseException(string message, FailureKind failureKind, string errorId, string? sqlState, bool failedBeforeSend, Exception? innerException)
        : base(message, innerException)
    {
        ArgumentException.ThrowIfNullOrEmpty(errorId);
        FailureKind = failureKind;
        ErrorId = errorId;
        SqlState = sqlState;
        FailedBeforeSend = failedBeforeSend;
    }

    /// <summary>Gets what kind of failure this is.</summary>
    public FailureKind FailureKind { get; }

    /// <summary>Gets the stable error ID, e.g. <see cref="ErrorIds.DatabaseUnavailable"/>.</summary>
    public string ErrorId { get; }

    /// <summary>Gets the PostgreSQL SQLSTATE, or <see langword="null"/> when the error did not come from the server.</summary>
    public string? SqlState { get; }

    /// <summary>Gets a value indicating whether the command certainly never reached the server (so even a write may be retried).</summary>
    public bool FailedBeforeSend { get; }

    /// <summary>Gets how long the caller should wait before trying again, when that is known (e.g. the remaining break of an open circuit).</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: no hint. <see cref="ResilientDataSource"/> sets it on every
    /// <see cref="FailureKind.Unavailable"/> or <see cref="FailureKind.Transient"/> failure it surfaces: the breaker's
    /// remaining break when it is open, otherwise the retry's next delay (un-jittered), so a web app can send it on its 503.
    /// </value>
    public TimeSpan? RetryAfter { get => _retryAfter; init => _retryAfter = value; }

    /// <summary>Sets the hint on an exception translated before the library knew its schedule; a hint already set wins.</summary>
    internal void SuggestRetryAfter(TimeSpan retryAfter) => _retryAfter ??= retryAfter;
}
