using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.AdaptiveConcurrency;
using Resilience.AdaptiveThrottling;
using Resilience.CircuitBreaking;
using Resilience.Timeouts;

namespace Resilience.Http;

/// <summary>
/// The resilience of one named client: its authorities (each with a breaker, a retry budget and two pipelines), its
/// response cache and its failure surface. Outlives the handler instances <c>IHttpClientFactory</c> rotates.
/// </summary>
/// <remarks>
/// Per authority there is one Core pipeline with its breaker: a request that must be sent once (not safe to repeat, or
/// a body that cannot be resent) runs through it with retries forbidden on its context, and only bodiless <c>GET</c>
/// and <c>HEAD</c> requests are hedged (when hedging is on). The total and attempt timeouts bound every request, and
/// every attempt counts for the breaker. The cached fallback is the handler's own (<see cref="HttpResponseCache"/>),
/// not Core's <c>CachedFallback</c>: a response is single-use, so it is stored as a snapshot and rebuilt per request.
/// </remarks>
internal sealed partial class HttpResilienceEngine : IDisposable
{
    private readonly HttpAuthorityRegistry<HttpAuthorityPipelines> _authorities;
    private readonly CircuitBreakerRegistry _breakers;
    private readonly bool _ownsBreakers;
    private readonly HttpResponseCache? _cache;
    private readonly Func<Outcome<HttpResponseMessage>, bool>? _shouldHandleOutcome;

    /// <param name="clientName">The client's name.</param>
    /// <param name="options">The options; validated here.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="loggerFactory">Where to log.</param>
    /// <param name="breakers">The registry of the breakers; a private one when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter the client's instruments report on; the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <param name="previous">
    /// The engine these options replace (a configuration reload), whose state this one takes over: the authorities it
    /// tracks with their breakers (same instances, given the new options) and, while their settings are unchanged, their
    /// retry budgets and the response cache. Not referenced afterwards.
    /// </param>
    /// <param name="random">The retry jitter's source (the container's <c>UseRandom</c>); <see cref="System.Random.Shared"/> when <see langword="null"/>.</param>
    public HttpResilienceEngine(
        string clientName,
        HttpResilienceOptions options,
        TimeProvider? timeProvider,
        ILoggerFactory? loggerFactory,
        CircuitBreakerRegistry? breakers,
        IMeterFactory? meterFactory,
        HttpResilienceEngine? previous = null,
        Random? random = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clientName);
        ArgumentNullException.ThrowIfNull(options);
        HttpResilienceOptionsValidator.ThrowIfInvalid(options, clientName);

        ClientName = clientName;
        TimeProvider = timeProvider ?? TimeProvider.System;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Logger = LoggerFactory.CreateLogger("Resilience.Http." + clientName);
        MeterFactory = meterFactory;
        Random = random ?? Random.Shared;
        Metrics = HttpMetrics.For(meterFactory);

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
        _shouldHandleOutcome = options.ShouldHandleOutcome;

        // Hook (extensions): callbacks, fault injection, routing and custom layers; null when none is set.
        Extensions = HttpPipelineExtensions.Create(options);
        if (options.RetryBudget.Enabled && options.RetryBudget.Budget is { } given)
        {
            SharedBudget = given;
        }
        else if (options.RetryBudget.Enabled)
        {
            BudgetOptions = new Retry.RetryBudgetOptions
            {
                MaxTokens = options.RetryBudget.MaxTokens,
                DepositPerSuccess = options.RetryBudget.DepositPerSuccess,
                MinRetriesPerSecond = options.RetryBudget.MinRetriesPerSecond,
            };
        }

        if (options.ConcurrencyLimit.Enabled)
        {
            ConcurrencyLimit = new AdaptiveConcurrencyOptions(options.ConcurrencyLimit.Options);
        }

        if (options.AdaptiveThrottling.Enabled)
        {
            // The predicate captures the caller's rule, not this engine: a throttler kept over a reload must not keep it alive.
            var predicate = _shouldHandleOutcome;
            var throttling = new AdaptiveThrottlingOptions(options.AdaptiveThrottling.Options);
            throttling.ShouldHandle ??= predicate is null
                ? static e => HttpAttemptClassifier.IsTransientByDefault(Outcome.FromException<HttpResponseMessage>(e))
                : e => predicate(Outcome.FromException<HttpResponseMessage>(e));
            Throttling = throttling;
        }

        if (options.Hedging.Enabled)
        {
            Hedging = new HttpHedgingOptions { Enabled = true, Delay = options.Hedging.Delay, MaxHedgedAttempts = options.Hedging.MaxHedgedAttempts };
        }

        if (options.CachedFallback.Enabled && previous?._cache is { } kept && kept.HasSettings(options.CachedFallback))
        {
            _cache = kept;
        }
        else if (options.CachedFallback.Enabled)
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
        _breakers = breakers ?? new CircuitBreakerRegistry(null, TimeProvider, LoggerFactory, meterFactory);
        AdoptsBreakers = previous is not null;

        // Only the budget, limiter and throttler are captured (not the previous engine): a chain of replaced engines must not stay reachable.
        var sharedKept = previous?._authorities.Shared is { } shared ? Kept(previous, shared) : default;
        _authorities = new HttpAuthorityRegistry<HttpAuthorityPipelines>(
            options.BreakerScope,
            options.MaxTrackedAuthorities,
            authority => new HttpAuthorityPipelines(this, authority, authority == HttpAuthorityRegistry<HttpAuthorityPipelines>.SharedAuthority ? sharedKept : default),
            OnAuthorityEvicted,
            static pipelines => pipelines.Breaker.State == CircuitState.Closed);
        if (previous is not null && options.BreakerScope == HttpCircuitBreakerScope.PerAuthority)
        {
            foreach (var (key, authority, pipelines) in previous._authorities.GetTracked())
            {
                _authorities.Adopt(key, authority, new HttpAuthorityPipelines(this, authority, Kept(previous, pipelines)));
            }
        }
    }

    /// <summary>Gets a value indicating whether breakers of this client's names found in the registry are taken over (after a reload) rather than conflicting.</summary>
    public bool AdoptsBreakers { get; }

    /// <summary>
    /// What <paramref name="pipelines"/> hands over to this engine: each of its budget, concurrency limiter and throttler
    /// whose settings did not change, so tokens, the learned limit and the window carry over a reload.
    /// </summary>
    private HttpAuthorityKept Kept(HttpResilienceEngine previous, HttpAuthorityPipelines pipelines)
    {
        var budget = BudgetOptions is { } now && previous.BudgetOptions is { } before
            && now.MaxTokens == before.MaxTokens && now.DepositPerSuccess == before.DepositPerSuccess && now.MinRetriesPerSecond == before.MinRetriesPerSecond
            ? pipelines.Budget
            : null;
        var limiter = ConcurrencyLimit is { } limit && pipelines.Limiter is { } kept && AdaptiveConcurrencyOptions.SameValues(limit, kept.Options) ? kept : null;
        var throttler = Throttling is { } throttling && pipelines.Throttler is { } keptThrottler && AdaptiveThrottlingOptions.SameValues(throttling, keptThrottler.Options)
            ? keptThrottler
            : null;
        return new HttpAuthorityKept(budget, limiter, throttler);
    }

    public string ClientName { get; }

    public TimeProvider TimeProvider { get; }

    public ILoggerFactory LoggerFactory { get; }

    public ILogger Logger { get; }

    /// <summary>Gets the factory of the meter the pipelines, breakers and handler report on; the static meter when <see langword="null"/>.</summary>
    public IMeterFactory? MeterFactory { get; }

    public HttpMetrics Metrics { get; }

    /// <summary>Gets the source the retry draws its jitter from, once per retry.</summary>
    public Random Random { get; }

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

    /// <summary>Gets the caller's budget every authority draws on (<see cref="HttpRetryBudgetOptions.Budget"/>), or <see langword="null"/> for one bucket each from <see cref="BudgetOptions"/>.</summary>
    public Retry.RetryBudget? SharedBudget { get; }

    /// <summary>Gets the settings of each authority's adaptive concurrency limit, or <see langword="null"/> when it is off.</summary>
    public AdaptiveConcurrencyOptions? ConcurrencyLimit { get; }

    /// <summary>Gets the settings of each authority's adaptive throttling, or <see langword="null"/> when it is off.</summary>
    public AdaptiveThrottlingOptions? Throttling { get; }

    /// <summary>Gets the hedging of <c>GET</c> and <c>HEAD</c> requests, or <see langword="null"/> when it is off.</summary>
    public HttpHedgingOptions? Hedging { get; }

    public CircuitBreakerRegistry Breakers => _breakers;

    /// <summary>Gets the client's callbacks, fault injection, routing and custom layers; <see langword="null"/> when it has none.</summary>
    public HttpPipelineExtensions? Extensions { get; }

    public int TrackedAuthorities => _authorities.Count;

    public bool IsTransient(Outcome<HttpResponseMessage> outcome) =>
        _shouldHandleOutcome is { } predicate ? predicate(outcome) : HttpAttemptClassifier.IsTransientByDefault(outcome);

    /// <summary>Lists the pipelines of the authorities tracked now (the shared one in shared scope), for status pages.</summary>
    public List<HttpAuthorityPipelines> GetAuthorities()
    {
        var list = new List<HttpAuthorityPipelines>();
        if (_authorities.Shared is { } shared)
        {
            list.Add(shared);
        }

        foreach (var (_, _, pipelines) in _authorities.GetTracked())
        {
            list.Add(pipelines);
        }

        return list;
    }

    /// <summary>Returns the pipelines of the authority <paramref name="requestUri"/> belongs to (for tests and diagnostics).</summary>
    public HttpAuthorityPipelines GetPipelines(Uri requestUri) => _authorities.Get(requestUri, out _);

    /// <summary>Sends <paramref name="request"/> through the pipelines of its authority and applies the failure surface.</summary>
    /// <remarks>
    /// Not an async method: a request that completes synchronously (an open circuit's rejection, above all) returns a
    /// completed task, and a failure for the exception surface is a faulted task, never a throw inside the handler.
    /// </remarks>
    public Task<HttpResponseMessage> SendAsync(ResilienceHttpHandler handler, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            throw new InvalidOperationException("The resilience handler needs an absolute request URI (set HttpClient.BaseAddress or pass an absolute URI).");
        }

        var start = TimeProvider.GetTimestamp();
        var pipelines = _authorities.Get(uri, out _);
        var permission = HttpRetrySafety.Evaluate(request, RetryUnsafeMethods);

        // Only a body that may be sent again is buffered; with no retries configured there is nothing to buffer for.
        var resendable = permission.IsAllowed() && MaxRetries > 0;
        if (resendable && RequestContentReplay.NeedsBuffering(request, MaxBufferedContentBytes))
        {
            return SendBufferedAsync(handler, request, pipelines, permission, start, cancellationToken);
        }

        var replay = resendable ? RequestContentReplay.Inspect(request, MaxBufferedContentBytes) : default;
        return Run(handler, request, pipelines, permission, replay, start, default, cancellationToken);
    }

    /// <summary>Sends a request whose stream body must be read to be resent: reading it counts against the total timeout.</summary>
    /// <remarks>
    /// The adapter keeps the deadline itself here (the request's start plus the total timeout), because the pipeline's
    /// own total timeout starts only with the first attempt: its token bounds the reading and the whole pipeline.
    /// </remarks>
    private async Task<HttpResponseMessage> SendBufferedAsync(
        ResilienceHttpHandler handler, HttpRequestMessage request, HttpAuthorityPipelines pipelines, HttpRetryPermission permission, long start, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(Timeout.InfiniteTimeSpan, TimeProvider);
        using var link = cancellationToken.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), deadline);
        var left = TotalTimeout - TimeProvider.GetElapsedTime(start);
        deadline.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        RequestContentReplay replay;
        try
        {
            replay = await RequestContentReplay.BufferAsync(request, MaxBufferedContentBytes, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            var unsent = new HttpRequestCall(this, handler, request, default, start, permission, deadline.Token);
            HttpLog.TimedOut(Logger, ClientName, pipelines.Authority, TotalTimeout.TotalMilliseconds, 0);
            var timeout = new OperationTimeoutException(TimeoutKind.Total, TotalTimeout, pipelines.BreakerName, e);
            return await GiveUp(unsent, pipelines, HttpResilienceOutcome.TimedOut, null, timeout, null, "timeout").ConfigureAwait(false);
        }

        // The retry's deadline is the request's too (the pipeline's own total timeout starts only now), so a retry whose
        // delay would end after it is not started and the last response stays the answer. Flows into the pipeline only.
        AmbientDeadline.Set(TimeProvider, TotalTimeout - TimeProvider.GetElapsedTime(start));
        return await Run(handler, request, pipelines, permission, replay, start, deadline.Token, cancellationToken).ConfigureAwait(false);
    }

    private Task<HttpResponseMessage> Run(
        ResilienceHttpHandler handler, HttpRequestMessage request, HttpAuthorityPipelines pipelines, HttpRetryPermission permission,
        RequestContentReplay replay, long start, CancellationToken deadline, CancellationToken cancellationToken)
    {
        if (!replay.CanResend && Logger.IsEnabled(LogLevel.Information))
        {
            HttpLog.ContentNotResendable(Logger, ClientName, request.Method.Method, LogSafeUri.Render(request.RequestUri), MaxBufferedContentBytes, replay.Kind);
        }

        // Retried: safe to repeat, resendable, and retries configured. A failure of such a request is reported with why
        // the retries stopped; a failure of any other is reported as not retried.
        var retries = permission.IsAllowed() && replay.CanResend && MaxRetries > 0;
        var call = new HttpRequestCall(this, handler, request, replay, start, permission, deadline) { Hedged = HttpHedging.Applies(this, request, permission), Retries = retries };
        if (call.Hedged || Extensions?.FaultInjector is not null)
        {
            // Hedged copies run beside the request and carry its options: linked once, before any of them starts. An
            // injected response never passes the send, which links the call on a failure, so it is linked up front too.
            call.Register();
        }

        // One pipeline per authority: the context says whether this request may be retried or hedged, and carries the
        // hedged attempt's number to the send, so a hedged copy knows it is one.
        var context = ResilienceContextPool.Shared.Get(null, deadline.CanBeCanceled ? deadline : cancellationToken);
        context.RetryAllowed = retries;
        context.HedgingAllowed = call.Hedged;
        if (ConcurrencyLimit is not null && request.Options.TryGetValue(HttpResilienceRequestOptions.Priority, out var priority) && priority != CallPriority.Normal)
        {
            // Only a request marked otherwise sets it: the properties of the pooled context are created on first write.
            context.Properties.Set(AdaptiveConcurrencyLimiter.PriorityKey, priority);
        }

        if (Extensions is not null)
        {
            // Hook (extensions): the request travels in the context to layers, generators and callbacks.
            HttpPipelineExtensions.Attach(context, request);
        }

        // Hook (routing): the attempt's endpoint, when the routing layer chose one.
        var pending = pipelines.Pipeline.ExecuteOutcomeAsync(static (ctx, c) => c.SendAttemptAsync(ctx.HedgedAttempt, HttpRoutingState.TargetOf(ctx), ctx.CancellationToken), context, call);
        if (pending.IsCompletedSuccessfully)
        {
            var outcome = pending.Result;
            call.ReadRetryStop(context);
            ResilienceContextPool.Shared.Return(context);
            return Complete(call, pipelines, outcome, cancellationToken).AsTask();
        }

        return CompleteAsync(call, pipelines, pending, context, cancellationToken);
    }

    /// <remarks>The request's one unavoidable allocation besides its call (a <see cref="Task"/> is the handler's answer): few parameters, a small box.</remarks>
    private async Task<HttpResponseMessage> CompleteAsync(
        HttpRequestCall call, HttpAuthorityPipelines pipelines, ValueTask<Outcome<HttpResponseMessage>> pending, ResilienceContext context, CancellationToken cancellationToken)
    {
        var outcome = await pending.ConfigureAwait(false);
        call.ReadRetryStop(context);
        ResilienceContextPool.Shared.Return(context);
        return await Complete(call, pipelines, outcome, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask<HttpResponseMessage> Complete(HttpRequestCall call, HttpAuthorityPipelines pipelines, Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken)
    {
        var retries = call.Retries;
        call.Replay.Restore(call.Request);
        call.Unregister();
        return outcome.HasException
            ? OnException(call, pipelines, retries, outcome, cancellationToken)
            : OnResponse(call, pipelines, retries, outcome.Result!, cancellationToken);
    }

    public void Dispose()
    {
        if (_ownsBreakers)
        {
            _breakers.Dispose();
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

    /// <summary>Forgets an evicted authority's breaker: runs under the authority registry's lock, so no new breaker of that name is being created.</summary>
    private void OnAuthorityEvicted(string authority, HttpAuthorityPipelines pipelines)
    {
        // Only this instance: the name may belong to a newer breaker by now.
        if (_breakers.TryGet(pipelines.BreakerName, out var registered) && ReferenceEquals(registered, pipelines.Breaker))
        {
            _breakers.Remove(pipelines.BreakerName);
        }

        var state = pipelines.Breaker.State;
        if (state != CircuitState.Closed)
        {
            // Every tracked authority had a breaker that was not closed: memory stays bounded, but say so.
            Metrics.RecordOpenBreakerForgotten(ClientName, authority);
            HttpLog.OpenBreakerForgotten(Logger, ClientName, authority, state, MaxTrackedAuthorities);
        }
        else if (Logger.IsEnabled(LogLevel.Debug))
        {
            HttpLog.AuthorityEvicted(Logger, ClientName, authority, MaxTrackedAuthorities);
        }
    }
}
