using System.Data;
using Npgsql;
using Resilience.AdaptiveConcurrency;
using Resilience.CircuitBreaking;
using Resilience.Failures;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience.Npgsql;

/// <content>
/// How a call runs: its shape (transaction or not, limits set per call or carried by the connection), the attempt the
/// pipeline retries, and how failures become <see cref="DatabaseException"/>s.
/// </content>
public sealed partial class ResilientDataSource
{
    internal static bool IsSafeToRetry(Exception exception) =>
        exception is DatabaseException { FailureKind: FailureKind.Transient or FailureKind.Unavailable } failure
        && failure.SqlState is not ("53100" or "53200")
        && !(failure.InnerException is { } inner && PostgresFailureClassifier.IsPoolExhausted(inner));

    /// <summary>
    /// The cheapest safe shape of an attempt: an idempotent single call under limits the connection already carries needs no
    /// transaction of ours (its statements are the only round trips); a call that may not be repeated keeps its transaction, so
    /// a failure before <c>COMMIT</c> is known to have rolled back; limits the connection does not carry are set per call.
    /// </summary>
    private QueryExecutor.CallShape ShapeOf(QueryTimeoutOptions timeouts, in DbCallOptions options, bool ownTransaction)
    {
        if (ownTransaction && options.WithoutTransaction)
        {
            throw new ArgumentException($"{nameof(DbCallOptions.WithoutTransaction)} applies to ExecuteAsync and Execute; InTransactionAsync always runs a transaction.", nameof(options));
        }

        var idempotent = options.IsIdempotent;
        var limitsOnConnection = _limitsOnConnection && (ReferenceEquals(timeouts, _timeouts)
            || (timeouts.StatementTimeout == _timeouts.StatementTimeout && timeouts.EffectiveLockTimeout == _timeouts.EffectiveLockTimeout));
        if (options.WithoutTransaction)
        {
            return limitsOnConnection ? QueryExecutor.CallShape.Autocommit : QueryExecutor.CallShape.AutocommitWithLimits;
        }

        if (!limitsOnConnection)
        {
            return QueryExecutor.CallShape.TransactionWithLimits;
        }

        return idempotent && !ownTransaction ? QueryExecutor.CallShape.Autocommit : QueryExecutor.CallShape.Transaction;
    }

    // Allocated only when someone observes retries, so the common call stays allocation-free.
    private RetryObserver? ObserverOf() => _onRetry is null ? null : new RetryObserver(Pipeline.Name, _onRetry);

    private QueryTimeoutOptions TimeoutsOf(in DbCallOptions options)
    {
        if (options.Timeouts is null)
        {
            return _timeouts;
        }

        var timeouts = options.Timeouts.Clone();
        timeouts.Validate();
        return timeouts;
    }

    private async ValueTask<TResult> RunOnCallersAsync<TState, TResult>(
        NpgsqlConnection connection,
        NpgsqlTransaction? transaction,
        Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation,
        TState state,
        CancellationToken cancellationToken)
    {
        // A refused or absent breaker leaves a refused permit, whose verdicts are ignored.
        CircuitPermit permit = default;
        if (Pipeline.CircuitBreaker is { } breaker && !breaker.TryAcquire(out permit))
        {
            throw Rejected(new BrokenCircuitException(breaker.Name, breaker.State, permit.RemainingBreak));
        }

        var command = new NpgsqlCommand(null, connection, transaction) { CommandTimeout = _timeouts.CommandTimeoutSeconds };
        await using (command.ConfigureAwait(false))
        {
            try
            {
                var result = await operation(command, state, cancellationToken).ConfigureAwait(false);
                permit.Succeeded();
                return result;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                permit.Release();
                throw;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                var translated = PostgresErrorTranslator.Translate(ex, _timeouts, duringOpen: false);
                if (PostgresFailureClassifier.IsInfrastructureFailure(translated))
                {
                    permit.Failed(translated);
                }
                else
                {
                    permit.Succeeded();
                }

                SuggestRetryAfter(translated);
                throw translated;
            }
        }
    }

    /// <summary>Runs a call through the pipeline and surfaces its failure as one <see cref="DatabaseException"/>; the synchronous API runs this too and it completes synchronously.</summary>
    private async ValueTask<TResult> RunAsync<TState, TResult>(Call<TState, TResult> call, CallPriority priority, CancellationToken cancellationToken)
    {
        Admission.Enter();
        Outcome<TResult> outcome;
        try
        {
            if (call.IsAsync && priority == CallPriority.Normal)
            {
                outcome = await Pipeline.ExecuteOutcomeAsync(static (c, ct) => c.RunOnceAsync(ct), call, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // A synchronous context: the retry blocks this thread between attempts instead of awaiting a timer. A call
                // marked critical or sheddable carries its priority to the concurrency limit in its context.
                var context = ResilienceContextPool.Shared.Get(operationKey: null, isSynchronous: !call.IsAsync, cancellationToken);
                if (priority != CallPriority.Normal)
                {
                    context.Properties.Set(AdaptiveConcurrencyLimiter.PriorityKey, priority);
                }

                try
                {
                    outcome = await Pipeline.ExecuteOutcomeAsync(static (ctx, c) => c.RunOnceAsync(ctx.CancellationToken), context, call).ConfigureAwait(false);
                }
                finally
                {
                    ResilienceContextPool.Shared.Return(context);
                }
            }
        }
        finally
        {
            Admission.Exit();
        }

        if (outcome.HasException)
        {
            ReportUnknownOutcome(outcome.Exception!);
            if (ToDatabaseException(outcome.Exception!) is { } surfaced)
            {
                throw surfaced;
            }

            SuggestRetryAfter(outcome.Exception!);
        }

        // Rethrows a DatabaseException or the caller's cancellation with its original stack.
        return outcome.GetResultOrThrow();
    }

    /// <summary>
    /// Tells the caller of a failure worth trying again when to do so: at the breaker's next probe when this call's failures
    /// opened it, otherwise after the delay the retry would have waited next.
    /// </summary>
    private void SuggestRetryAfter(Exception exception)
    {
        if (exception is not DatabaseException { FailureKind: FailureKind.Unavailable or FailureKind.Transient, RetryAfter: null } failure)
        {
            return;
        }

        if (Pipeline.CircuitBreaker?.GetSnapshot() is { State: CircuitState.Open, NextProbeAt: { } nextProbe })
        {
            var remaining = nextProbe - _timeProvider.GetUtcNow();
            failure.SuggestRetryAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
            return;
        }

        failure.SuggestRetryAfter(_nextRetryDelay);
    }

    private void ReportUnknownOutcome(Exception exception)
    {
        if (exception is DatabaseException { FailureKind: FailureKind.UnknownOutcome } unknown)
        {
            _metrics.RecordUnknownOutcome(Pipeline.Name);
            NpgsqlLog.UnknownOutcome(_logger, unknown, Pipeline.Name);
        }
    }

    /// <summary>Turns the pipeline's own rejections into the one exception type callers handle; <see langword="null"/> for the rest.</summary>
    private DatabaseException? ToDatabaseException(Exception exception) => exception switch
    {
        BrokenCircuitException broken => Rejected(broken),
        ConcurrencyLimitRejectedException limited => Overloaded(limited),
        OperationTimeoutException timeout => new DatabaseException(
            string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"The database call did not complete within its total time limit ({timeout.Timeout.TotalSeconds} s)."),
            FailureKind.Timeout,
            ErrorIds.Timeout,
            sqlState: null,
            failedBeforeSend: false,
            timeout),
        _ => null,
    };

    /// <summary>A refusal by the concurrency limit: the database is overloaded and the attempt could not wait for a slot (never retried: Core's retry does not wait out this refusal).</summary>
    private static DatabaseException Overloaded(ConcurrencyLimitRejectedException limited) => new(
        string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"The database is overloaded: its concurrency limit ({limited.Limit}) is reached and the call could not wait for a slot; try again in {Math.Ceiling(limited.RetryAfter.GetValueOrDefault().TotalMilliseconds)} ms."),
        FailureKind.Unavailable,
        ErrorIds.DatabaseUnavailable,
        sqlState: null,
        failedBeforeSend: true,
        limited)
    {
        RetryAfter = limited.RetryAfter,
    };

    private DatabaseException Rejected(BrokenCircuitException broken)
    {
        // The breaker hands out one cached exception per opening (its RemainingBreak is as of the opening), so the
        // remaining break is read from the breaker itself.
        TimeSpan? retryAfter = broken.RemainingBreak == Timeout.InfiniteTimeSpan ? null : broken.RemainingBreak;
        if (retryAfter is not null && Pipeline.CircuitBreaker?.GetSnapshot().NextProbeAt is { } nextProbe)
        {
            var remaining = nextProbe - _timeProvider.GetUtcNow();
            retryAfter = remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
        }

        var message = retryAfter is { } wait
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The database is unavailable: its circuit breaker is open; try again in {Math.Ceiling(wait.TotalSeconds)} s.")
            : "The database is unavailable: its circuit breaker is held open.";
        return new DatabaseException(message, FailureKind.Unavailable, ErrorIds.DatabaseUnavailable, sqlState: null, failedBeforeSend: true, broken)
        {
            RetryAfter = retryAfter,
        };
    }

    /// <summary>One call's arguments, passed by value through the pipeline so no closure is allocated.</summary>
    private readonly struct Call<TState, TResult>
    {
        private readonly ResilientDataSource _source;
        private readonly DbOperation<TState, TResult> _operation;
        private readonly TState _state;
        private readonly QueryTimeoutOptions _timeouts;
        private readonly IsolationLevel _isolationLevel;
        private readonly bool _idempotent;
        private readonly QueryExecutor.CallShape _shape;
        private readonly RetryObserver? _observer;
        private readonly FoldedStatement<TResult>? _statement;

        public Call(
            ResilientDataSource source,
            DbOperation<TState, TResult> operation,
            TState state,
            QueryTimeoutOptions timeouts,
            IsolationLevel isolationLevel,
            bool idempotent,
            QueryExecutor.CallShape shape,
            RetryObserver? observer,
            FoldedStatement<TResult>? statement = null)
        {
            _source = source;
            _operation = operation;
            _state = state;
            _timeouts = timeouts;
            _isolationLevel = isolationLevel;
            _idempotent = idempotent;
            _shape = shape;
            _observer = observer;
            _statement = statement;
        }

        /// <summary>Gets a value indicating whether the caller used the asynchronous API.</summary>
        public bool IsAsync => _operation.IsAsync;

        public ValueTask<TResult> RunOnceAsync(CancellationToken cancellationToken) =>
            _observer is null ? AttemptAsync(cancellationToken) : ObservedAsync(cancellationToken);

        private ValueTask<TResult> AttemptAsync(CancellationToken cancellationToken) => QueryExecutor.ExecuteOnceAsync(
            _operation.IsAsync, _source.DataSource, _timeouts, _source.AcquireWaits, _source._timeProvider, _operation, _state, cancellationToken, _isolationLevel, _idempotent, _shape, _statement);

        private async ValueTask<TResult> ObservedAsync(CancellationToken cancellationToken)
        {
            _observer!.BeforeAttempt();
            try
            {
                return await AttemptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (DatabaseException failure)
            {
                _observer.Failed(failure);
                throw;
            }
        }
    }
}
