using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Resilience.CircuitBreaking;

namespace Resilience.Http;

/// <summary>
/// A <see cref="DelegatingHandler"/> that sends each request through the library's pipelines: total and attempt
/// timeouts, safe retries with <c>Retry-After</c>, a retry budget and a circuit breaker per authority, and an optional
/// cached <c>GET</c> fallback.
/// </summary>
/// <remarks>
/// <para>
/// With <c>IHttpClientFactory</c>, register it with <c>AddResilienceHttpHandler</c>: the breakers, budgets and cache then
/// belong to the named client and survive the factory's handler rotation. Constructed directly, the handler owns its
/// state; share one instance (one <see cref="HttpClient"/>) per upstream client.
/// </para>
/// <para>
/// When a request ends in a failure the handler handles (open circuit, exhausted retries, empty budget, a
/// <c>Retry-After</c> beyond the deadline, total timeout, a failure not retried) the caller gets what
/// <see cref="HttpResilienceOptions.FailureSurface"/> says: the upstream's own last response with a marker (synthesized
/// only when there is none; <see cref="HttpResilienceResponse.GetOutcome(HttpResponseMessage)"/>) or an
/// <see cref="HttpResilienceException"/>. <see cref="HttpResilienceOutcome.CircuitOpen"/> and <see cref="HttpResilienceOutcome.ConcurrencyLimited"/> mean nothing was sent.
/// The caller's cancellation always propagates as <see cref="OperationCanceledException"/> and is never retried.
/// </para>
/// <para>
/// Set <see cref="HttpClient.Timeout"/> to <see cref="Timeout.InfiniteTimeSpan"/> (or at least
/// <see cref="HttpResilienceOptions.TotalTimeout"/>): a shorter client timeout cancels the request as if the caller had,
/// so it is neither retried nor reported by this handler. <c>AddResilienceHttpHandler</c> checks it at start-up.
/// </para>
/// </remarks>
public sealed class ResilienceHttpHandler : DelegatingHandler
{
    private readonly HttpEngineSlot _engine;
    private readonly bool _ownsEngine;

    /// <summary>Initializes a new instance of the <see cref="ResilienceHttpHandler"/> class for one client.</summary>
    /// <param name="clientName">The client's name, used in breaker names, metrics and logs.</param>
    /// <param name="options">The options; validated here with the rules applied at start-up in DI.</param>
    /// <param name="timeProvider">The clock of timeouts, delays and breakers; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Where the handler and its strategies log; nowhere when <see langword="null"/>.</param>
    /// <param name="breakerRegistry">The registry the breakers (<c>{clientName}:{authority}</c>) are kept in, e.g. the application's, so they appear in its status report; a private one when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter the handler and its strategies report on; the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public ResilienceHttpHandler(
        string clientName,
        HttpResilienceOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        CircuitBreakerRegistry? breakerRegistry = null,
        IMeterFactory? meterFactory = null)
    {
        _engine = new HttpEngineSlot(new HttpResilienceEngine(clientName, options, timeProvider, loggerFactory, breakerRegistry, meterFactory));
        _ownsEngine = true;
    }

    internal ResilienceHttpHandler(HttpEngineSlot engine)
    {
        _engine = engine;
    }

    internal HttpResilienceEngine Engine => _engine.Current;

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _engine.Current.SendAsync(this, request, cancellationToken);

    /// <inheritdoc />
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The resilience handler is asynchronous: use HttpClient.SendAsync (retry delays must not block a thread).");

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsEngine)
        {
            _engine.Current.Dispose();
        }

        base.Dispose(disposing);
    }

    internal Task<HttpResponseMessage> SendInnerAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);
}
