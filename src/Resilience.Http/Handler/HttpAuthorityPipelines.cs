using Microsoft.Extensions.Logging;
using Resilience.AdaptiveConcurrency;
using Resilience.AdaptiveThrottling;
using Resilience.CircuitBreaking;
using Resilience.Hedging;
using Resilience.Retry;

namespace Resilience.Http;

/// <summary>
/// What one authority (or, in shared scope, the whole client) owns: a breaker from the registry named
/// <c>{client}:{authority}</c>, a retry budget, and one pipeline over both.
/// </summary>
/// <remarks>
/// Whether a request is retried or hedged is a fact of the request, not of the pipeline: the handler says it on the
/// call's <see cref="ResilienceContext"/> (<see cref="ResilienceContext.RetryAllowed"/>,
/// <see cref="ResilienceContext.HedgingAllowed"/>), and the retry and hedging layers read it there.
/// </remarks>
internal sealed class HttpAuthorityPipelines
{
    private readonly HttpResilienceEngine _engine;

    /// <param name="engine">The client's engine.</param>
    /// <param name="authority">The authority, or <c>*</c> in shared scope.</param>
    /// <param name="kept">What the pipelines these replace after a reload hand over: the budget, limiter and throttler whose settings did not change.</param>
    public HttpAuthorityPipelines(HttpResilienceEngine engine, string authority, HttpAuthorityKept kept = default)
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

        Budget = engine.SharedBudget
            ?? (engine.BudgetOptions is { } budget ? kept.Budget ?? new RetryBudget(budget, engine.TimeProvider) : null);

        // Named like the breaker, so the limit's gauges and both kinds' refusals say which client and authority they are about.
        Limiter = engine.ConcurrencyLimit is { } limit
            ? kept.Limiter ?? new AdaptiveConcurrencyLimiter(BreakerName, limit, engine.TimeProvider, engine.LoggerFactory.CreateLogger("Resilience.AdaptiveConcurrency"), engine.MeterFactory)
            : null;
        Throttler = engine.Throttling is { } throttling
            ? kept.Throttler ?? new AdaptiveThrottler(BreakerName, throttling, engine.TimeProvider, engine.Random, engine.LoggerFactory.CreateLogger("Resilience.AdaptiveThrottling"), engine.MeterFactory)
            : null;
        var hedging = engine.Hedging is { } hedge
            ? new HedgingOptions<HttpResponseMessage> { Delay = hedge.Delay, MaxHedgedAttempts = hedge.MaxHedgedAttempts, ShouldHandleOutcome = ShouldHedgeAtOnce, OnHedging = engine.Extensions?.HedgingCallback }
            : null;
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
        Pipeline = Build(retry, hedging);
    }

    /// <summary>Gets the authority, <c>scheme://host:port</c>, or <c>*</c> in shared scope.</summary>
    public string Authority { get; }

    public string BreakerName { get; }

    public CircuitBreaker Breaker { get; }

    public RetryBudget? Budget { get; }

    /// <summary>Gets the authority's adaptive concurrency limiter, or <see langword="null"/> when the limit is off.</summary>
    public AdaptiveConcurrencyLimiter? Limiter { get; }

    /// <summary>Gets the authority's adaptive throttler, or <see langword="null"/> when throttling is off.</summary>
    public AdaptiveThrottler? Throttler { get; }

    /// <summary>
    /// Gets the authority's pipeline: total timeout → retry → hedging → breaker → attempt timeout (retry without retries
    /// configured, hedging without hedging on, are left out). A request the handler must send once runs with retries
    /// forbidden on its context, one not hedged with hedging forbidden.
    /// </summary>
    public ResiliencePipeline<HttpResponseMessage> Pipeline { get; }

    private ResiliencePipeline<HttpResponseMessage> Build(RetryOptions<HttpResponseMessage>? retry, HedgingOptions<HttpResponseMessage>? hedging)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>(BreakerName)
        {
            TimeProvider = _engine.TimeProvider,
            Random = _engine.Random,
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

        // Their places are Core's: the limit outside the total timeout and the retries (a request waits for a slot once and
        // holds it through its retries), throttling per attempt outside the breaker. Answers the pipeline counts as failed
        // (429, 503, …; ShouldHandleResult above) are the throttler's "not accepted".
        if (Limiter is not null)
        {
            builder.AddAdaptiveConcurrencyLimit(Limiter);
        }

        if (Throttler is not null)
        {
            builder.AddAdaptiveThrottling(Throttler);
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
    /// Retries transient failures unless the request is sent once, the circuit is now open, or the server's
    /// <c>Retry-After</c> does not fit <see cref="HttpResilienceEngine.MaxDelay"/> or the time left: then the retries stop
    /// and the last response is the answer, with the reason recorded on the call.
    /// </summary>
    /// <remarks>
    /// The backoff delay is not drawn here: Core's retry draws it, once, from the pipeline's random source (seedable with
    /// <c>UseRandom</c>), and stops when it would end past the deadline. Only a real <c>Retry-After</c> travels to it as a
    /// hint (<see cref="RetryAfter"/>), so a "Retry-After adjusted" event means the server's header was adjusted.
    /// The hint's deadline is the adapter's own (the request's start plus the total timeout), so a response is never
    /// discarded for a retry that could not start in time. An exception has no call to read it from: it retries while the
    /// circuit is closed, and the total timeout ends it.
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

        if (HttpRequestCall.Of(response) is not { } call || !call.Retries || call.Attempts > _engine.MaxRetries)
        {
            // Sent once (the context forbids the retry), or no retry is left (Core reports the retries as exhausted).
            return true;
        }

        var decisions = call.Retry;
        decisions.ServerHint = null;
        if (IsOpen)
        {
            decisions.StoppedBecause = HttpResilienceOutcome.RetriesStoppedByOpenCircuit;
            return false;
        }

        if (!_engine.TryGetRetryAfter(response, out var hint))
        {
            return true;
        }

        var timeLeft = _engine.TotalTimeout - _engine.TimeProvider.GetElapsedTime(call.StartTimestamp);
        var decision = RetryAfterPolicy.Decide(hint, TimeSpan.Zero, _engine.MaxDelay, timeLeft);
        if (decision.Kind != RetryDelayDecisionKind.Retry)
        {
            decisions.StoppedBecause = HttpResilienceOutcome.RetryAfterExceedsDeadline;
            decisions.FailNowHint = decision.ServerHint;
            return false;
        }

        decisions.ServerHint = decision.Delay;
        return true;
    }

    /// <summary>The server's <c>Retry-After</c> that <see cref="ShouldRetry"/> accepted for a response; none otherwise (Core's backoff alone).</summary>
    private static TimeSpan? RetryAfter(Outcome<HttpResponseMessage> outcome) =>
        outcome.Result is { } response && HttpRequestCall.Of(response) is { } call ? call.RetryHint : null;

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

/// <summary>What an authority's pipelines hand over to the ones that replace them after a reload.</summary>
internal readonly record struct HttpAuthorityKept(RetryBudget? Budget, AdaptiveConcurrencyLimiter? Limiter, AdaptiveThrottler? Throttler);
