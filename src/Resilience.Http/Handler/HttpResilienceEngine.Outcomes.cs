using System.Net;
using Microsoft.Extensions.Logging;
using Resilience.AdaptiveConcurrency;
using Resilience.AdaptiveThrottling;
using Resilience.CircuitBreaking;
using Resilience.Timeouts;

namespace Resilience.Http;

/// <content>What the handler does with an attempt's outcome: retry, answer, serve a stale copy, or give up with the reason.</content>
internal sealed partial class HttpResilienceEngine : IDisposable
{
    private ValueTask<HttpResponseMessage> OnException(HttpRequestCall call, HttpAuthorityPipelines pipelines, bool retries, Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken)
    {
        var exception = outcome.Exception!;
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            // The caller's own cancellation: never retried, never replaced, never counted.
            return ValueTask.FromException<HttpResponseMessage>(exception);
        }

        if (exception is BrokenCircuitException)
        {
            var remaining = RemainingBreak(pipelines.Breaker);
            if (call.Attempts == 0)
            {
                HttpLog.CircuitOpenRejected(Logger, ClientName, pipelines.Authority, remaining.TotalMilliseconds);
                return GiveUp(call, pipelines, HttpResilienceOutcome.CircuitOpen, remaining, exception, null, "circuit-open");
            }

            // Another request opened the circuit while this one waited for its retry: the last failure was already
            // discarded, so the answer is synthesized, but it says what was sent.
            HttpLog.RetriesStoppedByOpenCircuit(Logger, ClientName, pipelines.Authority, call.Attempts, remaining.TotalMilliseconds);
            return GiveUp(call, pipelines, HttpResilienceOutcome.RetriesStoppedByOpenCircuit, remaining, call.LastError ?? exception, call.LastStatus, "circuit-open");
        }

        if (exception is ConcurrencyLimitRejectedException limited)
        {
            // Refused before the first attempt (the limit is outside the retries): nothing was sent.
            return GiveUp(call, pipelines, HttpResilienceOutcome.ConcurrencyLimited, limited.RetryAfter, exception, null, HttpResilienceOutcomeNames.ConcurrencyLimited);
        }

        if (exception is AdaptiveThrottlingRejectedException throttled)
        {
            // Per attempt: a retry refused locally ends the request with what the earlier attempts got.
            return GiveUp(call, pipelines, HttpResilienceOutcome.Throttled, throttled.RetryAfter, call.LastError ?? exception, call.LastStatus, HttpResilienceOutcomeNames.Throttled);
        }

        if (exception is OperationTimeoutException { Kind: TimeoutKind.Total }
            || (exception is OperationCanceledException && call.Deadline.IsCancellationRequested))
        {
            HttpLog.TimedOut(Logger, ClientName, pipelines.Authority, TotalTimeout.TotalMilliseconds, call.Attempts);
            return GiveUp(call, pipelines, HttpResilienceOutcome.TimedOut, null, exception, call.LastStatus, "timeout");
        }

        if (!IsTransient(outcome))
        {
            return ValueTask.FromException<HttpResponseMessage>(exception);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            // The caller cancelled while the failure came in: the answer is the caller's own cancellation.
            return ValueTask.FromCanceled<HttpResponseMessage>(cancellationToken);
        }

        var reason = HttpLog.ReasonOf(outcome);
        var gaveUp = retries ? WhyRetriesStopped(call, pipelines) : HttpResilienceOutcome.NotRetried;
        LogGaveUp(call, pipelines, gaveUp, reason, null);
        return GiveUp(call, pipelines, gaveUp, OpenBreakOrNull(pipelines.Breaker), exception, null, reason);
    }

    private ValueTask<HttpResponseMessage> OnResponse(HttpRequestCall call, HttpAuthorityPipelines pipelines, bool retries, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var outcome = Outcome.FromResult(response);
        if (!IsTransient(outcome))
        {
            return _cache is not null && response.IsSuccessStatusCode
                ? StoreAsync(call.Request, response, cancellationToken)
                : new ValueTask<HttpResponseMessage>(response);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            response.Dispose();
            return ValueTask.FromCanceled<HttpResponseMessage>(cancellationToken);
        }

        var reason = HttpLog.ReasonOf(outcome);
        var gaveUp = retries ? WhyRetriesStopped(call, pipelines) : HttpResilienceOutcome.NotRetried;
        LogGaveUp(call, pipelines, gaveUp, reason, call.FailNowHint);

        // The upstream answered: the caller gets that answer (status, headers and body intact), marked.
        if (TryServeStale(call, pipelines, reason, out var stale))
        {
            response.Dispose();
            return new ValueTask<HttpResponseMessage>(stale);
        }

        Metrics.RecordHandled(ClientName, pipelines.Authority, gaveUp);
        if (FailureSurface == HttpFailureSurface.Exception)
        {
            var retryAfter = TryGetRetryAfter(response, out var hint) ? hint : OpenBreakOrNull(pipelines.Breaker);
            var status = response.StatusCode;
            response.Dispose();
            return ValueTask.FromException<HttpResponseMessage>(new HttpResilienceException(gaveUp, pipelines.Authority, retryAfter, call.Attempts, status));
        }

        OutcomeMarker.Mark(call.Request, response, gaveUp, call.Attempts);
        return new ValueTask<HttpResponseMessage>(response);
    }

    private async ValueTask<HttpResponseMessage> StoreAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await _cache!.StoreAsync(request, response, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Reading the body for the cache failed (connection reset, cancellation): free the connection.
            response.Dispose();
            throw;
        }

        return response;
    }

    /// <summary>
    /// Why a retried request got no further attempt: the retry predicate said (hint, deadline, open circuit), else what
    /// Core's retry reported (all used, budget empty, the delay would end past the deadline).
    /// </summary>
    /// <remarks>
    /// An empty budget is said only when the budget refused: guessing it from "nothing else explains the stop" called an
    /// attempt timeout followed by a delay that did not fit the time left an empty budget.
    /// </remarks>
    private HttpResilienceOutcome WhyRetriesStopped(HttpRequestCall call, HttpAuthorityPipelines pipelines) =>
        call.StoppedBecause
        ?? call.RetryStopped switch
        {
            Retry.RetryStopReason.BudgetExhausted => HttpResilienceOutcome.RetryBudgetExhausted,
            Retry.RetryStopReason.DeadlineReached => HttpResilienceOutcome.TimedOut,
            Retry.RetryStopReason.Exhausted => HttpResilienceOutcome.RetriesExhausted,
            _ => call.Attempts > MaxRetries ? HttpResilienceOutcome.RetriesExhausted
                : pipelines.IsOpen ? HttpResilienceOutcome.RetriesStoppedByOpenCircuit
                : TimeProvider.GetElapsedTime(call.StartTimestamp) >= TotalTimeout ? HttpResilienceOutcome.TimedOut
                : HttpResilienceOutcome.NotRetried,
        };

    /// <summary>Gives up when no upstream response is left to return: a stored response, else a synthesized one or the exception.</summary>
    private ValueTask<HttpResponseMessage> GiveUp(
        HttpRequestCall call, HttpAuthorityPipelines pipelines, HttpResilienceOutcome outcome, TimeSpan? retryAfter, Exception? lastError, HttpStatusCode? lastStatus, string reason)
    {
        if (TryServeStale(call, pipelines, reason, out var stale))
        {
            return new ValueTask<HttpResponseMessage>(stale);
        }

        Metrics.RecordHandled(ClientName, pipelines.Authority, outcome);
        if (FailureSurface == HttpFailureSurface.Exception)
        {
            return ValueTask.FromException<HttpResponseMessage>(new HttpResilienceException(outcome, pipelines.Authority, retryAfter, call.Attempts, lastStatus, lastError));
        }

        // A gateway timeout when the upstream never answered in time: the deadline ran out, or every attempt timed out
        // (retries exhausted or not retried). An open circuit keeps its 503, whose Retry-After says when to come back.
        var timedOut = outcome == HttpResilienceOutcome.TimedOut
            || (call.AllAttemptsTimedOut && outcome is not (HttpResilienceOutcome.CircuitOpen or HttpResilienceOutcome.RetriesStoppedByOpenCircuit));
        var response = timedOut
            ? SyntheticResponses.Create504(call.Request)
            : SyntheticResponses.Create503(call.Request, retryAfter);
        OutcomeMarker.Mark(call.Request, response, outcome, call.Attempts);
        return new ValueTask<HttpResponseMessage>(response);
    }

    private bool TryServeStale(HttpRequestCall call, HttpAuthorityPipelines pipelines, string reason, out HttpResponseMessage stale)
    {
        if (_cache is not null && _cache.TryCreateStaleResponse(call.Request, out var response, out var age))
        {
            // Hook (extensions): OnFallback.
            Extensions?.RaiseFallback(call, age, null);
            Metrics.RecordHandled(ClientName, pipelines.Authority, HttpResilienceOutcome.Stale);
            if (Logger.IsEnabled(LogLevel.Warning))
            {
                HttpLog.StaleResponseServed(Logger, ClientName, LogSafeUri.Render(call.Request.RequestUri), (long)age.TotalSeconds, reason);
            }

            // Marked with what the failed request sent (the stored snapshot does not know).
            OutcomeMarker.Mark(call.Request, response!, HttpResilienceOutcome.Stale, call.Attempts);
            stale = response!;
            return true;
        }

        stale = null!;
        return false;
    }

    private void LogGaveUp(HttpRequestCall call, HttpAuthorityPipelines pipelines, HttpResilienceOutcome outcome, string reason, TimeSpan? hint)
    {
        switch (outcome)
        {
            case HttpResilienceOutcome.NotRetried:
                if (Logger.IsEnabled(LogLevel.Debug))
                {
                    HttpLog.RetryNotAllowed(Logger, ClientName, call.Request.Method.Method, LogSafeUri.Render(call.Request.RequestUri), reason, call.Permission);
                }

                break;
            case HttpResilienceOutcome.RetryAfterExceedsDeadline:
                HttpLog.RetryAfterExceedsDeadline(Logger, ClientName, pipelines.Authority, hint.GetValueOrDefault().TotalMilliseconds);
                break;
            case HttpResilienceOutcome.RetryBudgetExhausted:
                HttpLog.RetryBudgetExhausted(Logger, ClientName, pipelines.Authority);
                break;
            case HttpResilienceOutcome.RetriesStoppedByOpenCircuit:
                HttpLog.RetriesStoppedByOpenCircuit(Logger, ClientName, pipelines.Authority, call.Attempts, RemainingBreak(pipelines.Breaker).TotalMilliseconds);
                break;
            case HttpResilienceOutcome.TimedOut:
                HttpLog.TimedOut(Logger, ClientName, pipelines.Authority, TotalTimeout.TotalMilliseconds, call.Attempts);
                break;
            default:
                HttpLog.RetriesExhausted(Logger, ClientName, pipelines.Authority, call.Attempts, reason);
                break;
        }
    }
}
