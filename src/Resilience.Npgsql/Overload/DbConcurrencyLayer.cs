using Resilience.AdaptiveConcurrency;
using Resilience.Failures;
using Resilience.Timeouts;

namespace Resilience.Npgsql;

/// <summary>
/// The adaptive limit per attempt, in front of the pool: a slot before a connection, released when the attempt ends. At the
/// pipeline's attempt position (inside the retry, outside the breaker), so a retry's backoff holds no slot, the latency
/// measured is the database's, and a refusal never reaches the breaker (a half-open probe is never spent on it).
/// </summary>
/// <remarks>Core's layer sits outside the retry (a whole call per slot); this one drives the same limiter per attempt.</remarks>
internal sealed class DbConcurrencyLayer(AdaptiveConcurrencyLimiter limiter) : ResilienceLayer
{
    public override string Name => "concurrency-limit";

    protected internal override ValueTask<Outcome<TResult>> InvokeAsync<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
    {
        // Only a context that carries properties is asked: reading Properties of an empty one would create the bag.
        var priority = context.HasProperties ? context.Properties.GetValue(AdaptiveConcurrencyLimiter.PriorityKey, CallPriority.Normal) : CallPriority.Normal;
        return limiter.TryAcquire(priority) ? Run(callback, context, state) : WaitThenRunAsync(callback, context, state, priority);
    }

    private ValueTask<Outcome<TResult>> Run<TResult, TState>(Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
    {
        var started = limiter.Start();
        ValueTask<Outcome<TResult>> pending;
        try
        {
            pending = callback(context, state);
        }
        catch (Exception e)
        {
            pending = new ValueTask<Outcome<TResult>>(Outcome.FromException<TResult>(e));
        }

        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            limiter.Release(started, EndOf(in outcome, context.CancellationToken));
            return new ValueTask<Outcome<TResult>>(outcome);
        }

        return AwaitAsync(pending, started, context.CancellationToken);
    }

    private async ValueTask<Outcome<TResult>> AwaitAsync<TResult>(ValueTask<Outcome<TResult>> pending, long started, CancellationToken cancellationToken)
    {
        Outcome<TResult> outcome;
        try
        {
            outcome = await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            outcome = Outcome.FromException<TResult>(e);
        }

        limiter.Release(started, EndOf(in outcome, cancellationToken));
        return outcome;
    }

    private async ValueTask<Outcome<TResult>> WaitThenRunAsync<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state, CallPriority priority)
    {
        if (priority == CallPriority.Sheddable)
        {
            return Outcome.FromException<TResult>(Refusal(limiter.Reject(priority, AdaptiveConcurrencyTelemetry.ReasonSheddable, waited: false)));
        }

        AdaptiveConcurrencyLimiter.WaitResult result;
        try
        {
            result = await limiter.WaitAsync(priority, WaitLimit(), context.CancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            return Outcome.FromException<TResult>(e);
        }

        return result switch
        {
            AdaptiveConcurrencyLimiter.WaitResult.Granted => await Run(callback, context, state).ConfigureAwait(false),
            AdaptiveConcurrencyLimiter.WaitResult.QueueFull => Outcome.FromException<TResult>(Refusal(limiter.Reject(priority, AdaptiveConcurrencyTelemetry.ReasonQueueFull, waited: false))),
            _ => Outcome.FromException<TResult>(Refusal(limiter.Reject(priority, AdaptiveConcurrencyTelemetry.ReasonWaitExpired, waited: true))),
        };
    }

    /// <summary>
    /// The refusal as the one exception type callers handle, made here (not at the edge) so the retry sees a failure it must
    /// not retry (<see cref="ResilientDataSource.IsSafeToRetry"/>) rather than a brief refusal it would wait out.
    /// </summary>
    private static DatabaseException Refusal(ConcurrencyLimitRejectedException limited) => new(
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

    // The queue's wait also ends at the ambient deadline of the work the call belongs to (Deadline.RunAsync).
    private TimeSpan WaitLimit()
    {
        var wait = limiter.MaxQueueWait;
        var left = AmbientDeadline.TimeLeft();
        return left == Timeout.InfiniteTimeSpan || left >= wait ? wait : left < TimeSpan.Zero ? TimeSpan.Zero : left;
    }

    /// <summary>
    /// What an attempt tells the limit: its latency when the database answered (a result or an error of its own); a shrink
    /// when it timed out or the pool ran dry; nothing when the database was unreachable (a refused connection is fast, and
    /// its speed says nothing about load), the caller cancelled, or a layer inside refused.
    /// </summary>
    private static CallEnd EndOf<TResult>(in Outcome<TResult> outcome, CancellationToken cancellationToken)
    {
        if (!outcome.HasException)
        {
            return CallEnd.Completed;
        }

        return outcome.Exception switch
        {
            OperationCanceledException when cancellationToken.IsCancellationRequested => CallEnd.Ignored,
            ExecutionRejectedException => CallEnd.Ignored,
            DatabaseException { FailureKind: FailureKind.Timeout } => CallEnd.TimedOut,
            DatabaseException { InnerException: { } inner } when PostgresFailureClassifier.IsPoolExhausted(inner) => CallEnd.TimedOut,
            DatabaseException { FailureKind: FailureKind.Unavailable or FailureKind.UnknownOutcome } => CallEnd.Ignored,
            OperationTimeoutException or TimeoutException => CallEnd.TimedOut,
            _ => CallEnd.Completed,
        };
    }
}
