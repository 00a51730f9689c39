using System.Data;
using Npgsql;

namespace Resilience.Npgsql;

/// <summary>
/// Npgsql's <c>bool async</c> idiom: one implementation calls the synchronous or the asynchronous ADO.NET method, so the
/// synchronous API is the same code path, completing synchronously (<see cref="Wait{TResult}"/>), never a second copy.
/// </summary>
internal static class SyncOrAsync
{
    /// <summary>Returns the result of a call made with <c>async: false</c>, which has normally completed already.</summary>
    /// <remarks>It has not only when it waited on a clock that is not the system's (a test's fake clock): then this blocks, as a synchronous call must.</remarks>
    public static TResult Wait<TResult>(ValueTask<TResult> pending) =>
        pending.IsCompleted ? pending.GetAwaiter().GetResult() : pending.AsTask().GetAwaiter().GetResult();

    public static ValueTask<NpgsqlConnection> OpenConnection(bool async, NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        async ? dataSource.OpenConnectionAsync(cancellationToken) : new ValueTask<NpgsqlConnection>(dataSource.OpenConnection());

    public static ValueTask<NpgsqlTransaction> BeginTransaction(bool async, NpgsqlConnection connection, IsolationLevel isolationLevel, CancellationToken cancellationToken) =>
        async ? connection.BeginTransactionAsync(isolationLevel, cancellationToken) : new ValueTask<NpgsqlTransaction>(connection.BeginTransaction(isolationLevel));

    public static ValueTask<int> ExecuteNonQuery(bool async, NpgsqlCommand command, CancellationToken cancellationToken) =>
        async ? new ValueTask<int>(command.ExecuteNonQueryAsync(cancellationToken)) : new ValueTask<int>(command.ExecuteNonQuery());

    public static ValueTask<object?> ExecuteScalar(bool async, NpgsqlCommand command, CancellationToken cancellationToken) =>
        async ? new ValueTask<object?>(command.ExecuteScalarAsync(cancellationToken)) : new ValueTask<object?>(command.ExecuteScalar());

    public static ValueTask<bool> Read(bool async, NpgsqlDataReader reader, CancellationToken cancellationToken) =>
        async ? new ValueTask<bool>(reader.ReadAsync(cancellationToken)) : new ValueTask<bool>(reader.Read());

    public static ValueTask<bool> NextResult(bool async, NpgsqlDataReader reader, CancellationToken cancellationToken) =>
        async ? new ValueTask<bool>(reader.NextResultAsync(cancellationToken)) : new ValueTask<bool>(reader.NextResult());

    public static ValueTask<bool> IsDBNull(bool async, NpgsqlDataReader reader, int ordinal, CancellationToken cancellationToken) =>
        async ? new ValueTask<bool>(reader.IsDBNullAsync(ordinal, cancellationToken)) : new ValueTask<bool>(reader.IsDBNull(ordinal));

    public static ValueTask Commit(bool async, NpgsqlTransaction transaction)
    {
        // Once COMMIT is on the wire its answer is awaited, never abandoned: cancelling it would turn a caller's impatience
        // into an unknown outcome. It is bounded by the connection's command timeout.
        if (async)
        {
            return new ValueTask(transaction.CommitAsync(CancellationToken.None));
        }

        transaction.Commit();
        return default;
    }

    public static ValueTask Dispose<T>(bool async, T disposable)
        where T : class, IDisposable, IAsyncDisposable
    {
        if (async)
        {
            return disposable.DisposeAsync();
        }

        disposable.Dispose();
        return default;
    }

    /// <summary>Waits <paramref name="delay"/>: a synchronous call blocks its own thread on the system clock (its caller chose to), as the retry does.</summary>
    public static Task Delay(bool async, TimeSpan delay, TimeProvider timeProvider)
    {
        if (async || !ReferenceEquals(timeProvider, TimeProvider.System))
        {
            return Task.Delay(delay, timeProvider, CancellationToken.None);
        }

        CancellationToken.None.WaitHandle.WaitOne(delay);
        return Task.CompletedTask;
    }
}
