using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.CircuitBreaking;
using Resilience.Timeouts;

namespace Resilience.Http;

/// <summary>
/// The resilience of one named client: its authorities (each with a breaker, a retry budget and two pipelines), its
/// response cache and its failure surface. Outlives the handler instances <c>IHttpClientFactory</c> rotates.
/// </summary>
/// <remarks>
/// Per authority there are two Core pipelines sharing one breaker: one retries (requests that are safe to repeat and
/// whose body can be resent), one sends once. Both have the total and attempt timeouts, so every request is bounded
/// and every attempt counts for the breaker. The cached fallback is the handler's own (<see cref="HttpResponseCache"/>),
/// not Core's <c>CachedFallback</c>: a response is single-use, so it is stored as a snapshot and rebuilt per request.
/// </remarks>
internal sealed class HttpResilienceEngine : IDisposable
{
    private readonly HttpAuthorityRegistry<HttpAuthorityPipelines> _authorities;
    private readonly CircuitBreakerRegistry _breakers;
    private readonly bool _ownsBreakers;
    private readonly HttpResponseCache? _cache;
    private readonly Func<Outcome<HttpResponseMessage>, bool>? _isTransient;

    public HttpResilienceEngine(string clientName, HttpResilienceOptions options, TimeProvider? timeProvider, ILoggerFactory? loggerFactory, CircuitBreakerRegistry? breakers)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clientName);
        ArgumentNullException.ThrowIfNull(options);
        HttpResilienceOptionsValidator.ThrowIfInvalid(options, clientName);

        ClientName = clientName;
        TimeProvider = timeProvider ?? TimeProvider.System;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Logger = LoggerFactory.CreateLogger("Resilience.Http." + clientName);

        // The values are copied: options changed after the client was built do not half-apply.
        TotalTimeout = options.TotalTimeout;
        AttemptTimeout = options.AttemptTimeout;
        MaxRetries = options.MaxRetries;
        BaseDelay = options.BaseDelay;
        MaxDelay = options.MaxDelay;
        FailureThreshold = options.FailureThreshold;
        BreakDuration = options.BreakDuration;
        RetryUnsafeMethods = options.RetryUnsafeMethods;
        MaxBufferedContentBytes = options.MaxBufferedContentBytes;
        FailureSurface = options.FailureSurface;
        MaxTrackedAuthorities = options.MaxTrackedAuthorities;
        _isTransient = options.IsTransient;
        if (options.RetryBudget.Enabled)
        {
            BudgetOptions = new Retry.RetryBudgetOptions
            {
                MaxTokens = options.RetryBudget.MaxTokens,
                DepositPerSuccess = options.RetryBudget.DepositPerSuccess,
                MinRetriesPerSecond = options.RetryBudget.MinRetriesPerSecond,
            };
        }

        if (options.CachedFallback.Enabled)
        {
            _cache = new HttpResponseCache(
                new HttpCachedFallbackOptions
                {
                    Enabled = true,
                    MaxEntries = options.CachedFallback.MaxEntries,
                    MaxBodyBytes = options.CachedFallback.MaxBodyBytes,
                    MaxStaleness = options.CachedFallback.MaxStaleness,
                },
                TimeProvider);
        }

        _ownsBreakers = breakers is null;
        _breakers = breakers ?? new CircuitBreakerRegistry(null, TimeProvider, LoggerFactory);
        _authorities = new HttpAuthorityRegistry<HttpAuthorityPipelines>(
            options.BreakerScope,
            options.MaxTrackedAuthorities,
            authority => new HttpAuthorityPipelines(this, authority),
            OnAuthorityEvicted);
    }

    public string ClientName { get; }

    public TimeProvider TimeProvider { get; }

    public ILoggerFactory LoggerFactory { get; }

    public ILogger Logger { get; }

    public TimeSpan TotalTimeout { get; }

    public TimeSpan AttemptTimeout { get; }

    public int MaxRetries { get; }

    public TimeSpan BaseDelay { get; }

    public TimeSpan MaxDelay { get; }

    public int FailureThreshold { get; }

    public TimeSpan BreakDuration { get; }

    public bool RetryUnsafeMethods { get; }

    public int MaxBufferedContentBytes { get; }

    public HttpFailureSurface FailureSurface { get; }

    public int MaxTrackedAuthorities { get; }

    public Retry.RetryBudgetOptions? BudgetOptions { get; }

    public CircuitBreakerRegistry Breakers => _breakers;

    public int TrackedAuthorities => _authorities.Count;

    public bool IsTransient(Outcome<HttpResponseMessage> outcome) =>
        _isTransient is { } predicate ? predicate(outcome) : HttpAttemptClassifier.IsTransientByDefault(outcome);

    /// <summary>Returns the pipelines of the authority <paramref name="requestUri"/> belongs to (for tests and diagnostics).</summary>
    public HttpAuthorityPipelines GetPipelines(Uri requestUri) => _authorities.Get(requestUri, out _);

    public async Task<HttpResponseMessage> SendAsync(ResilienceHttpHandler handler, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            throw new InvalidOperationException("The resilience handler needs an absolute request URI (set HttpClient.BaseAddress or pass an absolute URI).");
        }

        var pipelines = _authorities.Get(uri, out _);
        var permission = HttpRetrySafety.Evaluate(request, RetryUnsafeMethods);
        // Only a body that may be sent again is buffered; with no retries configured there is nothing to buffer for.
        var replay = permission.IsAllowed() && MaxRetries > 0
            ? await RequestContentReplay.PrepareAsync(request, MaxBufferedContentBytes, cancellationToken).ConfigureAwait(false)
            : default;
        if (!replay.CanResend && Logger.IsEnabled(LogLevel.Information))
        {
            HttpLog.ContentNotResendable(Logger, ClientName, request.Method.Method, LogSafeUri.Render(uri), MaxBufferedContentBytes, replay.Kind);
        }

        // Eligible: safe to repeat and resendable. Such a request that fails is reported as given up (exhausted, budget,
        // hint, timeout); one that is not eligible gets the upstream's own failure back.
        var retries = permission.IsAllowed() && replay.CanResend;
        var call = new HttpRequestCall(handler, request, replay, TimeProvider.GetTimestamp(), permission);
        request.Options.Set(HttpRequestCall.Key, call);
        Outcome<HttpResponseMessage> outcome;
        try
        {
            var pipeline = retries ? pipelines.Retrying : pipelines.SendOnce;
            outcome = await pipeline.ExecuteOutcomeAsync(static (c, ct) => c.SendAttemptAsync(ct), call, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            replay.Restore(request);
            ((IDictionary<string, object?>)request.Options).Remove(HttpRequestCall.Key.Key);
        }

        return outcome.HasException
            ? OnException(call, pipelines, retries, outcome, cancellationToken)
            : await OnResponseAsync(call, pipelines, retries, outcome, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (_ownsBreakers)
        {
            _breakers.Dispose();
        }
    }

    private HttpResponseMessage OnException(HttpRequestCall call, HttpAuthorityPipelines pipelines, bool retries, Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken)
    {
        var exception = outcome.Exception!;
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            // The caller's own cancellation: never retried, never replaced, never counted.
            ExceptionDispatchInfo.Throw(exception);
        }

        if (exception is BrokenCircuitException)
        {
            var remaining = RemainingBreak(pipelines.Breaker);
            HttpLog.CircuitOpenRejected(Logger, ClientName, pipelines.Authority, remaining.TotalMilliseconds);
            return GiveUp(call, pipelines, HttpResilienceOutcome.CircuitOpen, remaining, exception, "circuit-open");
        }

        if (exception is OperationTimeoutException { Kind: TimeoutKind.Total })
        {
            HttpLog.TimedOut(Logger, ClientName, pipelines.Authority, TotalTimeout.TotalMilliseconds, call.Attempts);
            return GiveUp(call, pipelines, HttpResilienceOutcome.TimedOut, null, exception, "timeout");
        }

        var reason = HttpLog.ReasonOf(outcome);
        if (!IsTransient(outcome))
        {
            ExceptionDispatchInfo.Throw(exception);
        }

        if (!retries)
        {
            // Not safe to repeat: the upstream's failure passes through (unless a stored GET can answer).
            LogNotRetried(call, reason);
            if (TryServeStale(call, pipelines, reason, out var stale))
            {
                return stale;
            }

            ExceptionDispatchInfo.Throw(exception);
        }

        // The caller cancelled while the failure came in: the answer is the caller's own cancellation.
        cancellationToken.ThrowIfCancellationRequested();

        var gaveUp = WhyRetriesStopped(call);
        LogGaveUp(call, pipelines, gaveUp, reason);
        return GiveUp(call, pipelines, gaveUp, OpenBreakOrNull(pipelines.Breaker), exception, reason);
    }

    private async ValueTask<HttpResponseMessage> OnResponseAsync(HttpRequestCall call, HttpAuthorityPipelines pipelines, bool retries, Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken)
    {
        var response = outcome.Result!;
        if (!IsTransient(outcome))
        {
            if (_cache is not null && response.IsSuccessStatusCode)
            {
                try
                {
                    await _cache.StoreAsync(call.Request, response, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    // Reading the body for the cache failed (connection reset, cancellation): free the connection.
                    response.Dispose();
                    throw;
                }
            }

            return response;
        }

        var reason = HttpLog.ReasonOf(outcome);
        if (call.FailNowHint is { } hint)
        {
            HttpLog.RetryAfterExceedsDeadline(Logger, ClientName, pipelines.Authority, hint.TotalMilliseconds);
            return Replace(response, call, pipelines, HttpResilienceOutcome.RetryAfterExceedsDeadline, hint, reason);
        }

        if (!retries)
        {
            LogNotRetried(call, reason);
            if (TryServeStale(call, pipelines, reason, out var stale))
            {
                response.Dispose();
                return stale;
            }

            return response;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            response.Dispose();
            throw new OperationCanceledException(cancellationToken);
        }

        var gaveUp = WhyRetriesStopped(call);
        LogGaveUp(call, pipelines, gaveUp, reason);
        var retryAfter = TryGetRetryAfter(response, out var serverHint) ? serverHint : OpenBreakOrNull(pipelines.Breaker);
        return Replace(response, call, pipelines, gaveUp, retryAfter, reason);
    }

    /// <summary>Why a retryable request got no further attempt: all were used, the total time ran out, or the budget was empty.</summary>
    private HttpResilienceOutcome WhyRetriesStopped(HttpRequestCall call) =>
        call.Attempts > MaxRetries ? HttpResilienceOutcome.RetriesExhausted
        : TimeProvider.GetElapsedTime(call.StartTimestamp) >= TotalTimeout ? HttpResilienceOutcome.TimedOut
        : HttpResilienceOutcome.RetryBudgetExhausted;

    /// <summary>Gives up on a request whose last attempt produced <paramref name="response"/>: it is disposed (its connection freed) and replaced.</summary>
    private HttpResponseMessage Replace(HttpResponseMessage response, HttpRequestCall call, HttpAuthorityPipelines pipelines, HttpResilienceOutcome outcome, TimeSpan? retryAfter, string reason)
    {
        response.Dispose();
        return GiveUp(call, pipelines, outcome, retryAfter, null, reason);
    }

    private HttpResponseMessage GiveUp(HttpRequestCall call, HttpAuthorityPipelines pipelines, HttpResilienceOutcome outcome, TimeSpan? retryAfter, Exception? lastError, string reason)
    {
        if (TryServeStale(call, pipelines, reason, out var stale))
        {
            return stale;
        }

        HttpMetrics.RecordHandled(ClientName, pipelines.Authority, outcome);
        return SyntheticResponses.CreateOrThrow(FailureSurface, call.Request, outcome, pipelines.Authority, retryAfter, lastError);
    }

    private bool TryServeStale(HttpRequestCall call, HttpAuthorityPipelines pipelines, string reason, out HttpResponseMessage stale)
    {
        if (_cache is not null && _cache.TryCreateStaleResponse(call.Request, out var response, out var age))
        {
            HttpMetrics.RecordHandled(ClientName, pipelines.Authority, HttpResilienceOutcome.Stale);
            if (Logger.IsEnabled(LogLevel.Warning))
            {
                HttpLog.StaleResponseServed(Logger, ClientName, LogSafeUri.Render(call.Request.RequestUri), (long)age.TotalSeconds, reason);
            }

            stale = response!;
            return true;
        }

        stale = null!;
        return false;
    }

    private void LogNotRetried(HttpRequestCall call, string reason)
    {
        if (Logger.IsEnabled(LogLevel.Debug))
        {
            HttpLog.RetryNotAllowed(Logger, ClientName, call.Request.Method.Method, LogSafeUri.Render(call.Request.RequestUri), reason, call.Permission);
        }
    }

    private void LogGaveUp(HttpRequestCall call, HttpAuthorityPipelines pipelines, HttpResilienceOutcome outcome, string reason)
    {
        if (outcome == HttpResilienceOutcome.RetryBudgetExhausted)
        {
            HttpLog.RetryBudgetExhausted(Logger, ClientName, pipelines.Authority);
        }
        else
        {
            HttpLog.RetriesExhausted(Logger, ClientName, pipelines.Authority, call.Attempts, reason);
        }
    }

    public bool TryGetRetryAfter(HttpResponseMessage response, out TimeSpan hint) =>
        HttpFailureClassifier.TryGetRetryAfter(response.Headers, TimeProvider.GetUtcNow(), out hint);

    private TimeSpan RemainingBreak(CircuitBreaker breaker)
    {
        var snapshot = breaker.GetSnapshot();
        if (snapshot.State == CircuitState.Isolated)
        {
            return Timeout.InfiniteTimeSpan;
        }

        if (snapshot.NextProbeAt is { } next)
        {
            var remaining = next - TimeProvider.GetUtcNow();
            return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
        }

        return TimeSpan.Zero;
    }

    private TimeSpan? OpenBreakOrNull(CircuitBreaker breaker) =>
        breaker.State is CircuitState.Open ? RemainingBreak(breaker) : null;

    private void OnAuthorityEvicted(string authority, HttpAuthorityPipelines pipelines)
    {
        _breakers.Remove(pipelines.BreakerName);
        HttpLog.AuthorityEvicted(Logger, ClientName, authority, MaxTrackedAuthorities);
    }
}
