using Resilience.CircuitBreaking;
using Resilience.FaultInjection;
using Resilience.Hedging;
using Resilience.Retry;

namespace Resilience.Http;

/// <summary>
/// What a client adds to the handler's pipelines: its callbacks, fault injection, endpoint routing and own layers.
/// The engine holds none when nothing is set, so a plain client pays nothing for them.
/// </summary>
/// <remarks>
/// The handler reaches it at a few hook points only: the engine creates it (<see cref="Create"/>), a request puts itself in
/// the call's context (<see cref="Attach"/>), each pipeline is built through <see cref="Apply"/>, and Core's retry, hedging,
/// breaker and the cached fallback report to it.
/// </remarks>
internal sealed class HttpPipelineExtensions
{
    private readonly Action<HttpRetryArguments>? _onRetry;
    private readonly Action<HttpCircuitArguments>? _onOpened;
    private readonly Action<HttpCircuitArguments>? _onClosed;
    private readonly Action<HttpCircuitArguments>? _onHalfOpened;
    private readonly Action<HttpHedgingArguments>? _onHedging;
    private readonly Action<HttpFallbackArguments>? _onFallback;
    private readonly Action<ResiliencePipelineBuilder<HttpResponseMessage>, string>? _configure;

    private HttpPipelineExtensions(HttpResilienceOptions options, FaultInjector? injector, HttpEndpointRouter? router)
    {
        _onRetry = options.OnRetry;
        _onOpened = options.OnCircuitOpened;
        _onClosed = options.OnCircuitClosed;
        _onHalfOpened = options.OnCircuitHalfOpened;
        _onHedging = options.OnHedging;
        _onFallback = options.OnFallback;
        _configure = options.ConfigurePipeline;
        FaultInjector = injector;
        Router = router;
    }

    /// <summary>Gets the client's fault injector (one for all its authorities), if it injects faults.</summary>
    public FaultInjector? FaultInjector { get; }

    /// <summary>Gets the endpoint groups hedged requests are routed to, if any.</summary>
    public HttpEndpointRouter? Router { get; }

    /// <summary>Gets Core's hedging callback, when the client has one.</summary>
    public Action<HedgingArguments>? HedgingCallback => _onHedging is null ? null : RaiseHedging;

    private bool WatchesBreakers => _onOpened is not null || _onClosed is not null || _onHalfOpened is not null;

    /// <summary>The client's extensions, or <see langword="null"/> when the options set none.</summary>
    public static HttpPipelineExtensions? Create(HttpResilienceOptions options)
    {
        var injector = HttpFaultInjection.CreateInjector(options.FaultInjection);
        var router = options.Hedging.Enabled ? HttpEndpointRouter.Create(options.Hedging.Routing) : null;
        var any = options.OnRetry is not null || options.OnCircuitOpened is not null || options.OnCircuitClosed is not null
            || options.OnCircuitHalfOpened is not null || options.OnHedging is not null || options.OnFallback is not null
            || options.ConfigurePipeline is not null || injector is not null || router is not null;
        return any ? new HttpPipelineExtensions(options, injector, router) : null;
    }

    /// <summary>Puts the request in the call's context, where layers, generators and callbacks read it.</summary>
    public static void Attach(ResilienceContext context, HttpRequestMessage request) =>
        context.Properties.Set(HttpResilienceProperties.Request, request);

    /// <summary>Adds the client's layers to one of an authority's pipelines.</summary>
    /// <param name="builder">The pipeline's builder, with the handler's own layers but the circuit breaker.</param>
    /// <param name="engine">The client's engine.</param>
    /// <param name="pipelines">The authority the pipeline belongs to.</param>
    /// <param name="hedged">Whether the pipeline hedges.</param>
    /// <returns><see langword="true"/> when endpoint routing applies the breakers itself (each attempt that of the endpoint called), so the pipeline must not add the authority's.</returns>
    public bool Apply(ResiliencePipelineBuilder<HttpResponseMessage> builder, HttpResilienceEngine engine, HttpAuthorityPipelines pipelines, bool hedged)
    {
        // First at the attempt position (outermost), so a breaker's callback raised inside it knows the attempt.
        if (WatchesBreakers)
        {
            builder.AddLayer(CustomLayerPosition.Attempt, HttpAttemptScope.EnterLayer.Instance);
            builder.AddLayer(CustomLayerPosition.Inner, HttpAttemptScope.OutcomeLayer.Instance);
        }

        var routed = hedged && Router is not null;
        if (routed)
        {
            builder.AddLayer(CustomLayerPosition.Outer, new HttpRoutingScopeLayer(engine.Hedging!.MaxHedgedAttempts + 1));
            builder.AddLayer(CustomLayerPosition.Attempt, new HttpRoutedBreakerLayer(engine, pipelines, Router!));
        }

        if (FaultInjector is { } injector)
        {
            builder.AddFaultInjection(injector);
        }

        _configure?.Invoke(builder, pipelines.Authority);
        return routed;
    }

    /// <summary>Sets the breaker callbacks of <paramref name="authority"/>'s breaker options.</summary>
    public void WireBreaker(CircuitBreakerOptions options, string authority)
    {
        if (_onOpened is { } opened)
        {
            options.OnOpened = change => opened(CircuitArguments(authority, in change));
        }

        if (_onClosed is { } closed)
        {
            options.OnClosed = change => closed(CircuitArguments(authority, in change));
        }

        if (_onHalfOpened is { } halfOpened)
        {
            options.OnHalfOpened = change => halfOpened(CircuitArguments(authority, in change));
        }
    }

    /// <summary>Reports a retry Core's retry scheduled, before the failed attempt's response is disposed.</summary>
    public void RaiseRetry(string authority, in RetryArguments arguments)
    {
        if (_onRetry is null)
        {
            return;
        }

        var response = arguments.Result as HttpResponseMessage;
        if ((response?.RequestMessage ?? HttpResilienceProperties.GetRequest(arguments.Context)) is { } request)
        {
            _onRetry(new HttpRetryArguments(request, authority, arguments.Attempt, arguments.Delay, response?.StatusCode, arguments.Exception));
        }
    }

    /// <summary>Reports a stored response served in place of the call's failure.</summary>
    public void RaiseFallback(HttpRequestCall call, TimeSpan age, Exception? failure) =>
        _onFallback?.Invoke(new HttpFallbackArguments(call.Request, call.Attempts, age, call.LastStatus, call.LastError ?? failure));

    private static HttpCircuitArguments CircuitArguments(string authority, in CircuitStateChange change) =>
        HttpAttemptScope.Current is { } scope
            ? new HttpCircuitArguments(authority, in change, scope.Request, scope.Attempt, scope.StatusCode)
            : new HttpCircuitArguments(authority, in change, null, 0, null);

    private void RaiseHedging(HedgingArguments arguments)
    {
        if (HttpResilienceProperties.GetRequest(arguments.Context) is { } request)
        {
            _onHedging!(new HttpHedgingArguments(request, arguments.Context.Attempt + 1, arguments.HedgedAttempt, arguments.Delay));
        }
    }
}
