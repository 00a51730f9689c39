using Npgsql;

namespace Resilience.Npgsql;

/// <summary>Runs a command on an <see cref="NpgsqlDataSource"/> with query timeouts that stop the query on the server.</summary>
public static class NpgsqlDataSourceTimeoutExtensions
{
    /// <summary>Starts every physical connection of the data source with <c>statement_timeout</c> and <c>lock_timeout</c> set to <paramref name="timeouts"/>.</summary>
    /// <param name="builder">The builder of the data source to pass to <see cref="ResilientDataSource"/>.</param>
    /// <param name="timeouts">The limits; the defaults (5 s statement timeout, half of it for locks) when <see langword="null"/>.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The limits become the session defaults (start-up <c>Options</c>), so they survive the pool's reset of a returned
    /// connection and cost no round trip. A <see cref="ResilientDataSource"/> whose data source carries its default limits
    /// this way runs an idempotent call as the caller's statement alone, and any other call without the extra
    /// <c>set_config</c> round trip. They apply to every command of the data source, also those not run through the adapter.
    /// <c>AddNpgsqlResilience</c> does this itself.
    /// </remarks>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException"><paramref name="timeouts"/> is invalid.</exception>
    public static NpgsqlDataSourceBuilder UseQueryTimeouts(this NpgsqlDataSourceBuilder builder, QueryTimeoutOptions? timeouts = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        timeouts ??= new QueryTimeoutOptions();
        timeouts.Validate();
        ServerTimeoutDefaults.Apply(builder.ConnectionStringBuilder, timeouts);
        return builder;
    }

    /// <summary>Runs <paramref name="operation"/> once with server-side <c>statement_timeout</c>/<c>lock_timeout</c> and a client command timeout.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation (avoids a closure).</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="dataSource">The data source whose pool serves the call.</param>
    /// <param name="operation">Sets up and executes the command bound to the call's transaction; must materialize its result.</param>
    /// <param name="state">Passed to <paramref name="operation"/>.</param>
    /// <param name="timeouts">The time limits; defaults (5 s statement timeout) when <see langword="null"/>.</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The operation's result.</returns>
    /// <remarks>Same behaviour as one attempt of <see cref="ResilientDataSource.ExecuteAsync{TState, TResult}(Func{NpgsqlCommand, TState, CancellationToken, ValueTask{TResult}}, TState, DbCallOptions, CancellationToken)"/>: no retry, no circuit breaker, no acquire-wait recording. A connection lost while the commit is in flight is reported as <see cref="Resilience.Failures.FailureKind.UnknownOutcome"/>.</remarks>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized); a timeout has kind <see cref="Resilience.Failures.FailureKind.Timeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static ValueTask<TResult> ExecuteWithTimeoutAsync<TState, TResult>(
        this NpgsqlDataSource dataSource,
        Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        QueryTimeoutOptions? timeouts = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(operation);
        timeouts ??= new QueryTimeoutOptions();
        timeouts.Validate();
        return QueryExecutor.ExecuteOnceAsync(async: true, dataSource, timeouts, acquireWaits: null, TimeProvider.System, new DbOperation<TState, TResult>(operation), state, cancellationToken);
    }
}
