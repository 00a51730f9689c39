using Microsoft.Extensions.Logging;
using Resilience.CircuitBreaking;
using Resilience.Hedging;
using Resilience.Retry;

namespace Resilience.Http;

/// <summary>
/// What one authority (or, in shared scope, the whole client) owns: a breaker from the registry named
/// <c>{client}:{authority}</c>, a retry budget, and two pipelines sharing both — one that retries, one that sends once.
/// </summary>
internal sealed class HttpAuthorityPipelines
{
    private readonly HttpResilienceEngine _engine;

    // The backoff schedule the retry predicate computes the next delay with, to check it against the deadline.
    private readonly RetryOptions _delays;

    /// <param name="engine">The client's engine.</param>
    /// <param name="authority">The authority, or <c>*</c> in shared scope.</param>
    /// <param name="keptBudget">The budget of the pipelines these replace after a reload, when its settings did not change.</param>
    public HttpAuthorityPipelines(HttpResilienceEngine engine, string authority, RetryBudget? keptBudget = null)
    {
        _engine = engine;
        Authority = authority;

        // The name carries client and authority, so Core's breaker, retry and timeout telemetry says which upstream it is about.
        BreakerName = engine.ClientName + ":" + authority;
        var breakerOptions = new CircuitBreakerOptions
        {
            Mode = CircuitBreakerMode.ConsecutiveFailures,
            FailureThreshold = engine.FailureThreshold,
            BreakDuration = engine.BreakDuration,
            ShouldHandle = ShouldCountException,
        };
        engine.Extensions?.WireBreaker(breakerOptions, authority); // Hook (extensions): breaker callbacks.
        if (engine.AdoptsBreakers && engine.Breakers.TryGet(BreakerName, out var existing))
        {
            // After a reload: the same breaker, state and all, under the new options.
            existing.UpdateOptions(breakerOptions);
            Breaker = existing;
        }
        else
        {
            Breaker = engine.Breakers.GetOrAdd(BreakerName, breakerOptions);
        }

        _delays = new RetryOptions
        {
            BaseDelay = engine.BaseDelay,
            MaxDelay = engine.MaxDelay,
            Backoff = RetryBackoff.Exponential,
            Jitter = RetryJitter.Decorrelated,
        };
        Budget = engine.BudgetOptions is { } budget ? keptBudget ?? new RetryBudget(budget, engine.TimeProvider) : null;
        var hedging = engine.Hedging is { } hedge
            ? new HedgingOptions<HttpResponseMessage> { Delay = hedge.Delay, MaxHedgedAttempts = hedge.MaxHedgedAttempts, ShouldHandleOutcome = ShouldHedgeAtOnce, OnHedging = engine.Extensions?.HedgingCallback }
            : null;
        SendOnce = Build(null, null);
        HedgedSendOnce = hedging is null ? null : Build(null, hedging);
        var retry = engine.MaxRetries == 0
            ? null
            : new RetryOptions<HttpResponseMessage>
            {
                Name = BreakerName,
                MaxRetries = engine.MaxRetries,
                BaseDelay = engine.BaseDelay,
                MaxDelay = engine.MaxDelay,
                Backoff = RetryBackoff.Exponential,
                Jitter = RetryJitter.Decorrelated,
                Budget = Budget,
                ShouldHandleOutcome = ShouldRetry,
                RetryAfter = RetryAfter,
                OnRetry = OnRetry,

                // The only place an exception's stop reason is known: the handler reports it instead of guessing.
                OnRetriesStopped = static stopped => stopped.Context.Properties.Set(HttpRequestCall.RetryStoppedKey, stopped.Reason),
            };
        Retrying = retry is null ? SendOnce : Build(retry, null);
        HedgedRetrying = retry is null || hedging is null ? HedgedSendOnce : Build(retry, hedging);
    }

    /// <summary>Gets the authority, <c>scheme://host:port</c>, or <c>*</c> in shared scope.</summary>
    public string Authority { get; }

    public string BreakerName { get; }

    public CircuitBreaker Breaker { get; }

    public RetryBudget? Budget { get; }

    /// <summary>Gets the pipeline for requests that may be repeated: total timeout → retry → breaker → attempt timeout.</summary>
    public ResiliencePipeline<HttpResponseMessage> Retrying { get; }

    /// <summary>Gets the pipeline for requests sent at most once: total timeout → breaker → attempt timeout.</summary>
    public ResiliencePipeline<HttpResponseMessage> SendOnce { get; }

    /// <summary>Gets the pipeline for hedged requests that may be repeated: total timeout → retry → hedging → breaker → attempt timeout; <see langword="null"/> without hedging.</summary>
    public ResiliencePipeline<HttpResponseMessage>? HedgedRetrying { get; }

    /// <summary>Gets the pipeline for hedged requests without retries: total timeout → hedging → breaker → attempt timeout; <see langword="null"/> without hedging.</summary>
    public ResiliencePipeline<HttpResponseMessage>? HedgedSendOnce { get; }

    private ResiliencePipeline<HttpResponseMessage> Build(RetryOptions<HttpResponseMessage>? retry, HedgingOptions<HttpResponseMessage>? hedging)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>(BreakerName)
        {
            TimeProvider = _engine.TimeProvider,
            LoggerFactory = _engine.LoggerFactory,
            MeterFactory = _engine.MeterFactory,
        };
        builder.AddTotalTimeout(_engine.TotalTimeout)
            .AddAttemptTimeout(_engine.AttemptTimeout)
            .ShouldHandleResult(IsFailedResponse);

        // Hook (extensions): the client's layers; with endpoint routing, its layer applies each endpoint's breaker instead.
        if (_engine.Extensions?.Apply(builder, _engine, this, hedging is not null) != true)
        {
            builder.AddCircuitBreaker(Breaker);
        }

        if (retry is not null)
        {
            builder.AddRetry(retry);
        }

        if (hedging is not null)
        {
            builder.AddHedging(hedging);
        }

        return builder.Build();
    }

    /// <summary>
    /// Whether a hedged attempt's outcome sends the next copy at once: a transient failure, but not the caller's
    /// cancellation, not an open circuit (the copy would go to the same authority) and not a server asking to slow down
    /// (429, <c>Retry-After</c>), which the retries honour instead. Any other outcome wins.
    /// </summary>
    private bool ShouldHedgeAtOnce(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Exception is { } exception)
        {
            // Hook (routing): with endpoint routing the next copy goes to another endpoint, so an open circuit moves on at once.
            return exception is BrokenCircuitException
                ? _engine.Extensions?.Router is not null
                : exception is not OperationCanceledException && _engine.IsTransient(outcome);
        }

        return outcome.Result is { } response
            && response.StatusCode != System.Net.HttpStatusCode.TooManyRequests
            && response.Headers.RetryAfter is null
            && _engine.IsTransient(outcome);
    }

    private bool IsFailedResponse(HttpResponseMessage response) => _engine.IsTransient(Outcome.FromResult(response));

    private bool ShouldCountException(Exception exception) => _engine.IsTransient(Outcome.FromException<HttpResponseMessage>(exception));

    /// <summary>Gets a value indicating whether the breaker rejects calls now (open or isolated).</summary>
    public bool IsOpen => Breaker.State is CircuitState.Open or CircuitState.Isolated;

    /// <summary>
    /// Retries transient failures unless the circuit is now open, or the delay before the next attempt (the server's
    /// <c>Retry-After</c>, else the computed backoff) does not fit <see cref="HttpResilienceEngine.MaxDelay"/> or the time
    /// left: then the retries stop and the last response is the answer, with the reason recorded on the call.
    /// </summary>
    /// <remarks>
    /// The deadline is the adapter's own (the request's start plus the total timeout), so a response is never discarded
    /// for a retry that could not start in time. An exception has no call to read it from: it retries while the circuit
    /// is closed, and the total timeout ends it.
    /// </remarks>
    private bool ShouldRetry(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Exception is { } exception)
        {
            return exception is not OperationCanceledException && _engine.IsTransient(outcome) && !IsOpen;
        }

        if (outcome.Result is not { } response || !_engine.IsTransient(outcome))
        {
            return false;
        }

        if (HttpRequestCall.Of(response) is not { } call || call.Attempts > _engine.MaxRetries)
        {
            // No retry is left: the retry strategy stops and reports the retries as exhausted.
            return true;
        }

        var decisions = call.Retry;
        if (IsOpen)
        {
            decisions.StoppedBecause = HttpResilienceOutcome.RetriesStoppedByOpenCircuit;
            return false;
        }

        TimeSpan? hint = _engine.TryGetRetryAfter(response, out var serverHint) ? serverHint : null;

        // Hook (fault injection): an injected response was never sent (0 attempts), and still gets the first retry's delay.
        var computed = hint is null ? RetryDelay.Compute(_delays, Math.Max(call.Attempts, 1), ref decisions.JitterState, Random.Shared) : TimeSpan.Zero;
        var timeLeft = _engine.TotalTimeout - _engine.TimeProvider.GetElapsedTime(call.StartTimestamp);
        var decision = RetryAfterPolicy.Decide(hint, computed, _engine.MaxDelay, timeLeft);
        switch (decision.Kind)
        {
            case RetryDelayDecisionKind.FailNowWithHint:
                decisions.StoppedBecause = HttpResilienceOutcome.RetryAfterExceedsDeadline;
                decisions.FailNowHint = decision.ServerHint;
                return false;
            case RetryDelayDecisionKind.FailNowNoTimeLeft:
                decisions.StoppedBecause = HttpResilienceOutcome.TimedOut;
                return false;
            default:
                decisions.NextDelay = decision.Delay;
                return true;
        }
    }

    /// <summary>The delay <see cref="ShouldRetry"/> chose for a response; for an exception, none (the retry strategy computes it).</summary>
    private static TimeSpan? RetryAfter(Outcome<HttpResponseMessage> outcome) =>
        outcome.Result is { } response && HttpRequestCall.Of(response) is { } call ? call.Retry.NextDelay : null;

    private void OnRetry(RetryArguments arguments)
    {
        var response = arguments.Result as HttpResponseMessage;
        var reason = arguments.Exception is { } exception ? HttpLog.ReasonOf(Outcome.FromException<HttpResponseMessage>(exception)) : HttpLog.ReasonOf(Outcome.FromResult(response!));

        _engine.Extensions?.RaiseRetry(Authority, in arguments); // Hook (extensions): OnRetry, before the response is disposed.

        // The discarded response holds a connection until its body is read or it is disposed.
        response?.Dispose();
        _engine.Metrics.RecordRetry(_engine.ClientName, Authority, reason);
        if (_engine.Logger.IsEnabled(LogLevel.Information))
        {
            HttpLog.RetryScheduled(_engine.Logger, _engine.ClientName, Authority, arguments.Attempt, reason, arguments.Delay.TotalMilliseconds);
        }
    }
}
