using System.Data;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Resilience.AdaptiveConcurrency;
using Resilience.CircuitBreaking;
using Resilience.Failures;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience.Npgsql;

/// <summary>Runs database calls on an <see cref="NpgsqlDataSource"/> through a retry, a circuit breaker and query timeouts that stop the query on the server.</summary>
/// <remarks>
/// <para>Each attempt gets a pooled connection. When the data source starts its connections with the default limits
/// (<see cref="NpgsqlDataSourceTimeoutExtensions.UseQueryTimeouts"/>, as <c>AddNpgsqlResilience</c> does), a call marked
/// <see cref="DbCallOptions.IsIdempotent"/> runs without a transaction of ours, each statement committing by itself: one round trip
/// for one statement, like bare Npgsql. Any other call runs in a transaction of its own; <c>statement_timeout</c> and
/// <c>lock_timeout</c> are set local to it only when the connection does not already carry the call's limits. The operation
/// receives an <see cref="NpgsqlCommand"/> (bound to that transaction, if any), sets its text and parameters (it may reuse the
/// command for several statements) and must consume any reader before returning. The transaction commits when the operation
/// returns; the operation must not commit itself.</para>
/// <para><b>What is retried.</b> An attempt is retried (with backoff, up to <see cref="NpgsqlResilienceOptions.Retry"/>) only
/// when that cannot duplicate a write: it failed before the command was sent; or the server rolled the transaction back
/// (serialization failure 40001, deadlock 40P01, lock timeout 55P03, or a connection lost before <c>COMMIT</c> was sent: an
/// uncommitted transaction never takes effect); or the connection failed while <c>COMMIT</c> was in flight and the call is
/// marked <see cref="DbCallOptions.IsIdempotent"/>. A call not marked idempotent learns its transaction id with <c>BEGIN</c>; when
/// its <c>COMMIT</c> fails without an ERROR from the server, the server is asked (<c>pg_xact_status</c>, on a new
/// connection, for up to about 3 s): committed → the call succeeds; aborted → retried like any rollback; otherwise it is reported as <see cref="FailureKind.UnknownOutcome"/> (<c>ERR_UNKNOWN_OUTCOME</c>) and never retried. Timeouts are never retried
/// (the same slow query would run again), nor is an exhausted pool (it already waited one acquire timeout; retrying
/// would multiply the caller's wait), nor the caller's own faults. The operation may therefore run more than once: keep it
/// free of effects outside the transaction.</para>
/// <para><b>Circuit breaker.</b> Every attempt passes the breaker, which counts infrastructure failures only
/// (<see cref="PostgresFailureClassifier.IsInfrastructureFailure"/>). While it is open, calls fail at once with a
/// <see cref="DatabaseException"/> of kind <see cref="FailureKind.Unavailable"/> (<c>ERR_DB_UNAVAILABLE</c>) whose
/// <see cref="DatabaseException.RetryAfter"/> is the remaining break and whose inner exception is the
/// <see cref="BrokenCircuitException"/>, so callers handle one exception type. Every other <see cref="FailureKind.Unavailable"/> or
/// <see cref="FailureKind.Transient"/> failure carries a <see cref="DatabaseException.RetryAfter"/> too: the remaining break when
/// the breaker is open by then, otherwise the retry's next delay without jitter.</para>
/// <para>Every failure is a translated, sanitized <see cref="DatabaseException"/>; a timeout never becomes an empty result; the
/// caller's cancellation propagates as <see cref="OperationCanceledException"/>. Connection-acquire waits are recorded for
/// <see cref="NpgsqlPoolProbe"/>. The data source is not owned (not disposed).</para>
/// </remarks>
public sealed partial class ResilientDataSource
{
    private readonly QueryTimeoutOptions _timeouts;
    private readonly bool _limitsOnConnection;
    private readonly Action<DbRetryInfo>? _onRetry;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly NpgsqlMetrics _metrics;

    // The retry's delay after its last attempt, without jitter: the hint a failure carries when the breaker is closed.
    private readonly TimeSpan _nextRetryDelay;

    /// <summary>Wraps <paramref name="dataSource"/>.</summary>
    /// <param name="dataSource">The data source whose pool serves the calls.</param>
    /// <param name="options">Time limits, retry and breaker settings; copied and validated. Defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock of the retry delays, the breaker and the acquire-wait figures; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Where the retry and the breaker log; no logging when <see langword="null"/>.</param>
    /// <param name="circuitBreaker">
    /// A breaker to share (e.g. from a <see cref="CircuitBreakerRegistry"/>, created with
    /// <see cref="CircuitBreakerOptions.ShouldHandle"/> = <see cref="PostgresFailureClassifier.IsInfrastructureFailure"/>);
    /// when <see langword="null"/>, one is created from <see cref="NpgsqlResilienceOptions.CircuitBreaker"/>.
    /// </param>
    /// <param name="meterFactory">Creates the meter the retry, breaker, timeouts and the adapter report on (DI's <see cref="IMeterFactory"/>); the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="OptionsValidationException"><paramref name="options"/> is invalid; the message lists every rule broken.</exception>
    public ResilientDataSource(
        NpgsqlDataSource dataSource,
        NpgsqlResilienceOptions? options = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        CircuitBreaker? circuitBreaker = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new NpgsqlResilienceOptions();
        NpgsqlResilienceOptionsValidator.ThrowIfInvalid(options);
        DataSource = dataSource;
        _timeouts = options.QueryTimeouts.Clone();
        _limitsOnConnection = ServerTimeoutDefaults.AreAppliedTo(dataSource.ConnectionString, _timeouts);
        _onRetry = options.OnRetry;
        _timeProvider = timeProvider ?? TimeProvider.System;
        AcquireWaits = new AcquireWaitRecorder(_timeProvider);
        loggerFactory ??= NullLoggerFactory.Instance;

        _logger = loggerFactory.CreateLogger("Resilience.Npgsql");
        _metrics = NpgsqlMetrics.For(meterFactory);
        var builder = new ResiliencePipelineBuilder(options.Name) { TimeProvider = _timeProvider, LoggerFactory = loggerFactory, MeterFactory = meterFactory };
        if (options.TotalTimeout is { } total)
        {
            builder.AddTotalTimeout(total);
        }

        var breaker = circuitBreaker ?? new CircuitBreaker(
            options.Name,
            CreateBreakerOptions(options.CircuitBreaker),
            _timeProvider,
            loggerFactory.CreateLogger("Resilience.CircuitBreaker"),
            meterFactory);
        var narrowing = options.Retry.ShouldHandle;
        builder.AddRetry(new RetryOptions(options.Retry)
        {
            ShouldHandle = narrowing is null ? IsSafeToRetry : e => IsSafeToRetry(e) && narrowing(e),
        });
        builder.AddCircuitBreaker(breaker);
        var pool = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        if (options.ConcurrencyLimit.Enabled)
        {
            ConcurrencyLimiter = new AdaptiveConcurrencyLimiter(
                options.Name,
                options.ConcurrencyLimit.Resolve(pool.MaxPoolSize, pool.Timeout),
                _timeProvider,
                loggerFactory.CreateLogger("Resilience.AdaptiveConcurrency"),
                meterFactory);
            builder.AddAdaptiveConcurrencyLimit(ConcurrencyLimiter);
        }

        Pipeline = builder.Build();
        var returnProbe = new ReturnProbe(dataSource, breaker, options.RecoveryProbeInterval, options.Retry.MaxDelay, _timeProvider);
        Admission = new OutageAdmission(breaker, options.EffectiveMaxWaitingCalls(pool.MaxPoolSize), returnProbe, _timeProvider);
        double jitterState = 0;
        _nextRetryDelay = new RetrySchedule(new RetryOptions(options.Retry) { Jitter = RetryJitter.None })
            .Compute(options.Retry.MaxRetries + 1, ref jitterState, Random.Shared);
    }

    /// <summary>Gets the wrapped data source.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>Gets the pipeline every call runs through: its <see cref="ResiliencePipeline.CircuitBreaker"/> and <see cref="ResiliencePipeline.RetryStatistics"/>.</summary>
    public ResiliencePipeline Pipeline { get; }

    /// <summary>Gets the adaptive concurrency limit in front of the pool (its limit, attempts in flight and queued, for a status page); <see langword="null"/> when it is off.</summary>
    public AdaptiveConcurrencyLimiter? ConcurrencyLimiter { get; }

    internal AcquireWaitRecorder AcquireWaits { get; }

    /// <summary>Gets the bound on calls waiting out an open circuit, and the watch for the server's return.</summary>
    internal OutageAdmission Admission { get; }

#pragma warning disable RS0026, RS0027 // See the stateless overloads below.
    /// <summary>Runs <paramref name="operation"/> (typically one statement) in a transaction of its own, retried only when safe.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation (avoids a closure).</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="operation">Sets up and executes the command; must materialize its result; may run more than once.</param>
    /// <param name="state">Passed to <paramref name="operation"/>.</param>
    /// <param name="options">Whether the call is idempotent, and its time limits (validated); <c>default</c> when omitted.</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized), the outcome of a write is unknown, or the circuit is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="OptionsValidationException"><see cref="DbCallOptions.Timeouts"/> is invalid.</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        DbCallOptions options = default,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var timeouts = TimeoutsOf(options);
        return RunAsync(new Call<TState, TResult>(this, new DbOperation<TState, TResult>(operation), state, timeouts, IsolationLevel.Unspecified, options.IsIdempotent, ShapeOf(timeouts, options, ownTransaction: false), ObserverOf()), options.Priority, cancellationToken);
    }
#pragma warning restore RS0026, RS0027

#pragma warning disable RS0026, RS0027 // The overloads differ by the operation's shape (with or without state), so optional arguments cannot make a call ambiguous.

    /// <summary>Runs <paramref name="operation"/> under the default time limits, as a call that is not idempotent.</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="operation">Sets up and executes the command; must materialize its result; may run more than once.</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized), the outcome of a write is unknown, or the circuit is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<TResult> ExecuteAsync<TResult>(Func<NpgsqlCommand, CancellationToken, ValueTask<TResult>> operation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteAsync(static (command, op, ct) => op(command, ct), operation, default, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> with per-call <paramref name="options"/> and no state.</summary>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="operation">Sets up and executes the command; must materialize its result; may run more than once.</param>
    /// <param name="options">Whether the call is idempotent, runs without a transaction, and its time limits (validated).</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized), the outcome of a write is unknown, or the circuit is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="OptionsValidationException"><see cref="DbCallOptions.Timeouts"/> is invalid.</exception>
    public ValueTask<TResult> ExecuteAsync<TResult>(Func<NpgsqlCommand, CancellationToken, ValueTask<TResult>> operation, DbCallOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return ExecuteAsync(static (command, op, ct) => op(command, ct), operation, options, cancellationToken);
    }

    /// <summary>Runs one statement with positional parameters (<c>$1</c>, <c>$2</c>, …) and returns the number of rows affected.</summary>
    /// <param name="sql">The statement, e.g. <c>INSERT INTO tasks (id, title, status, cost) VALUES ($1, $2, $3, $4)</c>; without parameters, several statements separated by <c>;</c> run as one batch in the call's transaction.</param>
    /// <param name="parameters">The values of <c>$1</c>, <c>$2</c>, … in order (<see langword="null"/> is SQL NULL), e.g. <c>[id, title, status, cost]</c>.</param>
    /// <param name="options">Whether the call is idempotent, runs without a transaction, and its time limits.</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The number of rows affected.</returns>
    /// <remarks>A convenience for the common case: the values are boxed; use the state-passing overloads on hot paths.</remarks>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized), the outcome of a write is unknown, or the circuit is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ArgumentException"><paramref name="sql"/> holds several statements and <paramref name="parameters"/> is not empty (PostgreSQL binds parameters to one statement).</exception>
    public ValueTask<int> ExecuteNonQueryAsync(string sql, IReadOnlyList<object?> parameters, DbCallOptions options = default, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        ArgumentNullException.ThrowIfNull(parameters);
        ThrowIfSeveralStatementsWithParameters(sql, parameters);
        return ExecuteStatementAsync(
            new FoldedStatement<int>(sql, parameters, static (rows, _) => rows),
            static async (command, s, ct) => await s.Prepare(command).ExecuteNonQueryAsync(ct).ConfigureAwait(false),
            options,
            cancellationToken);
    }

    /// <summary>Runs one query with positional parameters (<c>$1</c>, <c>$2</c>, …) and returns the first column of the first row.</summary>
    /// <typeparam name="T">The type of the value.</typeparam>
    /// <param name="sql">The query; without parameters, several statements separated by <c>;</c> run as one batch (the value is the first statement's that returns rows).</param>
    /// <param name="parameters">The values of <c>$1</c>, <c>$2</c>, … in order (<see langword="null"/> is SQL NULL).</param>
    /// <param name="options">Whether the call is idempotent (a read is: pass <see cref="DbCallOptions.Idempotent"/>), and its time limits.</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The value, or <see langword="default"/> when there is no row or it is SQL NULL.</returns>
    /// <remarks>A convenience for the common case: the values are boxed; use the state-passing overloads on hot paths.</remarks>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized), the outcome of a write is unknown, or the circuit is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ArgumentException"><paramref name="sql"/> holds several statements and <paramref name="parameters"/> is not empty (PostgreSQL binds parameters to one statement).</exception>
    public ValueTask<T?> ExecuteScalarAsync<T>(string sql, IReadOnlyList<object?> parameters, DbCallOptions options = default, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        ArgumentNullException.ThrowIfNull(parameters);
        ThrowIfSeveralStatementsWithParameters(sql, parameters);
        return ExecuteStatementAsync(
            new FoldedStatement<T?>(sql, parameters, static (_, value) => value is T typed ? typed : default),
            static async (command, s, ct) => await s.Prepare(command).ExecuteScalarAsync(ct).ConfigureAwait(false) is T value ? value : default,
            options,
            cancellationToken);
    }

#pragma warning restore RS0026, RS0027

    // Refused before anything is sent: PostgreSQL would reject it with a bare syntax error (42601).
    private static void ThrowIfSeveralStatementsWithParameters(string sql, IReadOnlyList<object?> parameters)
    {
        if (parameters.Count > 0 && SqlText.HasSeveralStatements(sql))
        {
            throw new ArgumentException(
                "The SQL holds several statements and has parameters, but PostgreSQL binds parameters to a single statement. Run each statement in its own call or together in InTransactionAsync; statements without parameters may share one call.",
                nameof(sql));
        }
    }

    // The operation serves the shapes that need no transaction id; a call not marked idempotent runs the statement folded.
    private ValueTask<TResult> ExecuteStatementAsync<TResult>(
        FoldedStatement<TResult> statement,
        Func<NpgsqlCommand, FoldedStatement<TResult>, CancellationToken, ValueTask<TResult>> operation,
        DbCallOptions options,
        CancellationToken cancellationToken)
    {
        var timeouts = TimeoutsOf(options);
        return RunAsync(new Call<FoldedStatement<TResult>, TResult>(this, new DbOperation<FoldedStatement<TResult>, TResult>(operation), statement, timeouts, IsolationLevel.Unspecified, options.IsIdempotent, ShapeOf(timeouts, options, ownTransaction: false), ObserverOf(), statement), options.Priority, cancellationToken);
    }

    /// <summary>Runs several statements in one transaction at <paramref name="isolationLevel"/>, re-running the whole transaction on 40001, 40P01 and 55P03.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation (avoids a closure).</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="operation">
    /// Runs the transaction's statements with the given command (set <see cref="NpgsqlCommand.CommandText"/> and clear
    /// <see cref="NpgsqlCommand.Parameters"/> between them); may run more than once, from the start.
    /// </param>
    /// <param name="state">Passed to <paramref name="operation"/>.</param>
    /// <param name="isolationLevel">The isolation level, e.g. <see cref="IsolationLevel.Serializable"/> for a read-modify-write.</param>
    /// <param name="options">Whether the call is idempotent, and its time limits (validated); <c>default</c> when omitted.</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The operation's result, after the transaction committed.</returns>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized), the outcome of the commit is unknown, or the circuit is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="OptionsValidationException"><see cref="DbCallOptions.Timeouts"/> is invalid.</exception>
    public ValueTask<TResult> InTransactionAsync<TState, TResult>(
        Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        IsolationLevel isolationLevel,
        DbCallOptions options = default,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var timeouts = TimeoutsOf(options);
        return RunAsync(new Call<TState, TResult>(this, new DbOperation<TState, TResult>(operation), state, timeouts, isolationLevel, options.IsIdempotent, ShapeOf(timeouts, options, ownTransaction: true), ObserverOf()), options.Priority, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> on the caller's open <paramref name="connection"/>: through the circuit breaker, translated, never retried by us.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation (avoids a closure).</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="connection">An open connection the caller owns (and disposes).</param>
    /// <param name="operation">Sets up and executes the command (bound to no transaction of ours); must materialize its result.</param>
    /// <param name="state">Passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The operation's result.</returns>
    /// <remarks>
    /// What it gives up: no retry (the caller owns the unit of work and knows whether repeating it is safe); no per-call
    /// server-side limits (the connection's own apply: those of <see cref="NpgsqlDataSourceTimeoutExtensions.UseQueryTimeouts"/>
    /// when it came from such a data source); the client command timeout of the default limits still applies. The breaker counts
    /// infrastructure failures and rejects calls while open; failures are translated <see cref="DatabaseException"/>s.
    /// </remarks>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized), or the circuit is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<TResult> ExecuteOnAsync<TState, TResult>(
        NpgsqlConnection connection,
        Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(operation);
        return RunOnCallersAsync(connection, null, operation, state, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> inside the caller's <paramref name="transaction"/>: through the circuit breaker, translated, never retried by us.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation (avoids a closure).</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="transaction">The caller's transaction; the caller commits or rolls it back.</param>
    /// <param name="operation">Sets up and executes the command, bound to <paramref name="transaction"/>; must materialize its result.</param>
    /// <param name="state">Passed to <paramref name="operation"/>.</param>
    /// <param name="cancellationToken">The caller's overall deadline.</param>
    /// <returns>The operation's result.</returns>
    /// <remarks>
    /// What it gives up: no retry (a failed statement aborts the caller's transaction: only the caller can run it again from the
    /// start); no per-call server-side limits (setting them local would last to the end of the caller's transaction); no
    /// commit-phase handling (the caller commits). The breaker and error translation work as in the other overloads.
    /// </remarks>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized), or the circuit is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ArgumentException"><paramref name="transaction"/> has already completed.</exception>
    public ValueTask<TResult> ExecuteOnAsync<TState, TResult>(
        NpgsqlTransaction transaction,
        Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(operation);
        var connection = transaction.Connection ?? throw new ArgumentException("The transaction has already completed.", nameof(transaction));
        return RunOnCallersAsync(connection, transaction, operation, state, cancellationToken);
    }

    /// <summary>Runs <paramref name="operation"/> synchronously in a transaction of its own, retried only when safe (retry delays block the thread).</summary>
    /// <typeparam name="TState">The type of the state passed to the operation (avoids a closure).</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="operation">Sets up and executes the command with Npgsql's synchronous methods; may run more than once.</param>
    /// <param name="state">Passed to <paramref name="operation"/>.</param>
    /// <param name="options">Whether the call is idempotent, and its time limits (validated); <c>default</c> when omitted.</param>
    /// <param name="cancellationToken">The caller's overall deadline: it cancels the running statement on the server, as in <c>ExecuteAsync</c> (the synchronous API runs the same code).</param>
    /// <returns>The operation's result.</returns>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized), the outcome of a write is unknown, or the circuit is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="OptionsValidationException"><see cref="DbCallOptions.Timeouts"/> is invalid.</exception>
    public TResult Execute<TState, TResult>(
        Func<NpgsqlCommand, TState, TResult> operation,
        TState state,
        DbCallOptions options = default,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var timeouts = TimeoutsOf(options);
        return SyncOrAsync.Wait(RunAsync(new Call<TState, TResult>(this, new DbOperation<TState, TResult>(operation), state, timeouts, IsolationLevel.Unspecified, options.IsIdempotent, ShapeOf(timeouts, options, ownTransaction: false), ObserverOf()), options.Priority, cancellationToken));
    }

    /// <summary>Runs several statements synchronously in one transaction at <paramref name="isolationLevel"/>, re-running it on 40001, 40P01 and 55P03.</summary>
    /// <typeparam name="TState">The type of the state passed to the operation (avoids a closure).</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="operation">Runs the transaction's statements with the given command; may run more than once, from the start.</param>
    /// <param name="state">Passed to <paramref name="operation"/>.</param>
    /// <param name="isolationLevel">The isolation level.</param>
    /// <param name="options">Whether the call is idempotent, and its time limits (validated); <c>default</c> when omitted.</param>
    /// <param name="cancellationToken">The caller's overall deadline: it cancels the running statement on the server.</param>
    /// <returns>The operation's result, after the transaction committed.</returns>
    /// <exception cref="DatabaseException">The call failed (translated, sanitized), the outcome of the commit is unknown, or the circuit is open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="OptionsValidationException"><see cref="DbCallOptions.Timeouts"/> is invalid.</exception>
    public TResult InTransaction<TState, TResult>(
        Func<NpgsqlCommand, TState, TResult> operation,
        TState state,
        IsolationLevel isolationLevel,
        DbCallOptions options = default,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var timeouts = TimeoutsOf(options);
        return SyncOrAsync.Wait(RunAsync(new Call<TState, TResult>(this, new DbOperation<TState, TResult>(operation), state, timeouts, isolationLevel, options.IsIdempotent, ShapeOf(timeouts, options, ownTransaction: true), ObserverOf()), options.Priority, cancellationToken));
    }

    /// <summary>The breaker options of the database: the caller's settings, counting infrastructure failures only unless the caller chose otherwise.</summary>
    /// <remarks>With slow-call detection on, a statement stopped by its <c>statement_timeout</c> counts too: the caller asked for
    /// slowness to count. The cap of a growing break is never below the first break: a <c>BreakDuration</c> configured above
    /// the default 5 s cap (the seeds' 60 s) is a constant break, not an invalid setting.</remarks>
    internal static CircuitBreakerOptions CreateBreakerOptions(CircuitBreakerOptions source) => new(source)
    {
        MaxBreakDuration = source.MaxBreakDuration < source.BreakDuration ? source.BreakDuration : source.MaxBreakDuration,
        ShouldHandle = source.ShouldHandle ?? (source.SlowCallThreshold is null
            ? PostgresFailureClassifier.IsInfrastructureFailure
            : static e => PostgresFailureClassifier.IsInfrastructureFailure(e) || PostgresFailureClassifier.IsStatementTimeout(e)),
    };

    // Not retried although Unavailable: an exhausted pool (it already waited one acquire timeout) and a full disk or
    // exhausted server memory (53100, 53200: seconds of back-off will not free them).
}
