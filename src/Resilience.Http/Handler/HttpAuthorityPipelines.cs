using Microsoft.Extensions.Logging;
using Resilience.CircuitBreaking;
using Resilience.Retry;

namespace Resilience.Http;

/// <summary>
/// What one authority (or, in shared scope, the whole client) owns: a breaker from the registry named
/// <c>{client}:{authority}</c>, a retry budget, and two pipelines sharing both — one that retries, one that sends once.
/// </summary>
internal sealed class HttpAuthorityPipelines
{
    private readonly HttpResilienceEngine _engine;

    public HttpAuthorityPipelines(HttpResilienceEngine engine, string authority)
    {
        _engine = engine;
        Authority = authority;

        // The name carries client and authority, so Core's breaker, retry and timeout telemetry says which upstream it is about.
        BreakerName = engine.ClientName + ":" + authority;
        Breaker = engine.Breakers.GetOrAdd(BreakerName, new CircuitBreakerOptions
        {
            Mode = CircuitBreakerMode.ConsecutiveFailures,
            FailureThreshold = engine.FailureThreshold,
            BreakDuration = engine.BreakDuration,
            ShouldHandle = ShouldCountException,
        });
        Budget = engine.BudgetOptions is { } budget ? new RetryBudget(budget, engine.TimeProvider) : null;
        SendOnce = Build(null);
        Retrying = engine.MaxRetries == 0
            ? SendOnce
            : Build(new RetryOptions<HttpResponseMessage>
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
            });
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

    private ResiliencePipeline<HttpResponseMessage> Build(RetryOptions<HttpResponseMessage>? retry)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>(BreakerName)
        {
            TimeProvider = _engine.TimeProvider,
            LoggerFactory = _engine.LoggerFactory,
        };
        builder.AddTotalTimeout(_engine.TotalTimeout)
            .AddCircuitBreaker(Breaker)
            .AddAttemptTimeout(_engine.AttemptTimeout)
            .ShouldHandleResult(IsFailedResponse);
        if (retry is not null)
        {
            builder.AddRetry(retry);
        }

        return builder.Build();
    }

    private bool IsFailedResponse(HttpResponseMessage response) => _engine.IsTransient(Outcome.FromResult(response));

    private bool ShouldCountException(Exception exception) => _engine.IsTransient(Outcome.FromException<HttpResponseMessage>(exception));

    /// <summary>Retries transient failures, except a response whose <c>Retry-After</c> does not fit: that one stops the retries and is reported with its hint.</summary>
    private bool ShouldRetry(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Exception is { } exception)
        {
            return exception is not OperationCanceledException && _engine.IsTransient(outcome);
        }

        if (outcome.Result is not { } response || !_engine.IsTransient(outcome))
        {
            return false;
        }

        if (_engine.TryGetRetryAfter(response, out var hint) && HttpRequestCall.Of(response) is { } call)
        {
            var timeLeft = _engine.TotalTimeout - _engine.TimeProvider.GetElapsedTime(call.StartTimestamp);
            var decision = RetryAfterPolicy.Decide(hint, TimeSpan.Zero, _engine.MaxDelay, timeLeft);
            if (!decision.ShouldRetry)
            {
                call.FailNowHint = decision.ServerHint;
                return false;
            }
        }

        return true;
    }

    private TimeSpan? RetryAfter(Outcome<HttpResponseMessage> outcome) =>
        outcome.Result is { } response && _engine.TryGetRetryAfter(response, out var hint) ? hint : null;

    private void OnRetry(RetryArguments<HttpResponseMessage> arguments)
    {
        var outcome = arguments.Outcome;
        var reason = HttpLog.ReasonOf(outcome);

        // The discarded response holds a connection until its body is read or it is disposed.
        outcome.Result?.Dispose();
        HttpMetrics.RecordRetry(_engine.ClientName, Authority, reason);
        if (_engine.Logger.IsEnabled(LogLevel.Information))
        {
            HttpLog.RetryScheduled(_engine.Logger, _engine.ClientName, Authority, arguments.Attempt, reason, arguments.Delay.TotalMilliseconds);
        }
    }
}
