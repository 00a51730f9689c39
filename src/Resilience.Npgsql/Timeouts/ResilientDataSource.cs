using Npgsql;

namespace Resilience.Npgsql;

/// <summary>Runs database calls on an <see cref="NpgsqlDataSource"/> with query timeouts that stop the query on the server.</summary>
/// <remarks>
/// <para>Each call gets a pooled connection and a transaction in which <c>statement_timeout</c> and <c>lock_timeout</c> are set
/// local to it; the operation receives an <see cref="NpgsqlCommand"/> bound to that transaction, sets its text and parameters
/// and must consume any reader before returning. The transaction commits when the operation returns. A timed-out query raises a
/// <see cref="DatabaseException"/> of kind <see cref="Resilience.Failures.FailureKind.Timeout"/> (error ID <c>ERR_TIMEOUT</c>),
/// never an empty result. Every failure is translated; the caller's cancellation propagates as
/// <see cref="OperationCanceledException"/>.</para>
/// <para>Connection-acquire waits are recorded for <see cref="NpgsqlPoolProbe"/>. The data source is not owned (not disposed).</para>
/// </remarks>
public sealed class ResilientDataSource
{
    private readonly QueryTimeoutOptions _timeouts;
    private readonly TimeProvider _timeProvider;

    /// <summary>Wraps <paramref name="dataSource"/>.</summary>
    /// <param name="dataSource">The data source whose pool serves the calls.</param>
    /// <param name="timeouts">Default time limits for each call; copied and validated. Defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">Measures acquire waits; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException"><paramref name="timeouts"/> is invalid.</exception>
    public ResilientDataSource(NpgsqlDataSource dataSource, QueryTimeoutOptions? timeouts = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _timeouts = timeouts?.Clone() ?? new QueryTimeoutOptions();
        _timeouts.Validate();
        DataSource = dataSource;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the wrapped data source.</summary>
    public NpgsqlDataSource DataSource { get; }

    internal AcquireWaitRecorder AcquireWaits { get; } = new();

    /// <summary>Runs <paramref name="operation"/> once under the given (or the default) time limits.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation (avoids a closure).</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="operation">Sets up and executes the command; must materialize its result.</param>
    /// <param name="state">Passed to <paramref name="operation"/>.</param>
    /// <param name="timeouts">The time limits of this call (validated); the data source's defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException"><paramref name="timeouts"/> is invalid.</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        QueryTimeoutOptions? timeouts = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (timeouts is null)
        {
            timeouts = _timeouts;
        }
        else
        {
            timeouts = timeouts.Clone();
            timeouts.Validate();
        }

        return ExecuteOnceAsync(operation, state, timeouts, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> once under the default time limits.</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="operation">Sets up and executes the command; must materialize its result.</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<TResult> ExecuteAsync<TResult>(Func<NpgsqlCommand, CancellationToken, ValueTask<TResult>> operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteOnceAsync(static (command, op, ct) => op(command, ct), operation, _timeouts, cancellationToken);
    }

    /// <summary>One attempt: the entry point a retry and a circuit breaker wrap. Options must be validated already.</summary>
    internal ValueTask<TResult> ExecuteOnceAsync<TState, TResult>(
        Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        QueryTimeoutOptions timeouts,
        CancellationToken cancellationToken) =>
        QueryExecutor.ExecuteOnceAsync(DataSource, timeouts, AcquireWaits, _timeProvider, operation, state, cancellationToken);
}
