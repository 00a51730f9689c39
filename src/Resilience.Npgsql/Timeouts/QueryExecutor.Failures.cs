using System.Globalization;
using Npgsql;
using Resilience.Failures;

namespace Resilience.Npgsql;

/// <content>How an attempt's failure becomes a <see cref="DatabaseException"/>, and how an uncertain COMMIT is resolved by asking the server.</content>
internal static partial class QueryExecutor
{
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

    /// <summary>What the server says became of transaction <paramref name="xid"/>: committed, aborted, in progress, or <see langword="null"/> when it cannot be asked.</summary>
    private static async ValueTask<string?> TransactionStatusAsync(bool async, NpgsqlDataSource dataSource, long xid, TimeProvider timeProvider)
    {
        // A restarting server answers within a few seconds: asked at once and after 0.1, 0.3, 0.7, 1.5 and 3.1 s (no wait
        // after the last ask, which lands after a 2–3 s outage is over), then the outcome stays unknown. "in progress" is
        // asked again on the same schedule: our connection is gone, so its backend is still exiting and the answer is
        // about to become "committed" or "aborted".
        string? status = null;
        for (var attempt = 0; attempt < StatusAttempts; attempt++)
        {
            if (attempt > 0)
            {
                await SyncOrAsync.Delay(async, TimeSpan.FromMilliseconds(100 << (attempt - 1)), timeProvider).ConfigureAwait(false);
            }

            try
            {
                var check = dataSource.CreateCommand("SELECT pg_xact_status($1::text::xid8)");
                try
                {
                    check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = xid.ToString(CultureInfo.InvariantCulture) });
                    status = await SyncOrAsync.ExecuteScalar(async, check, CancellationToken.None).ConfigureAwait(false) as string;
                }
                finally
                {
                    await SyncOrAsync.Dispose(async, check).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                status = null;
                continue;
            }

            if (status != "in progress")
            {
                return status;
            }
        }

        return status;
    }

    private const int StatusAttempts = 6;
}
