using Resilience.CircuitBreaking;

namespace Resilience.Http;

/// <summary>Finds the circuit breaker a resilience handler's client uses for an upstream, in the registry that holds it.</summary>
public static class HttpCircuitBreakerLookup
{
    /// <summary>Returns the breaker client <paramref name="clientName"/> uses for the authority (scheme, host, port) of <paramref name="uri"/>.</summary>
    /// <param name="registry">
    /// The registry the handler keeps its breakers in: the container's <see cref="CircuitBreakerRegistry"/> with
    /// <c>AddResilienceHttpHandler</c>, or the one given to <see cref="ResilienceHttpHandler"/>.
    /// </param>
    /// <param name="clientName">The client's name.</param>
    /// <param name="uri">An absolute URI of the upstream, e.g. the client's base address; its path and query do not matter.</param>
    /// <returns>
    /// The breaker (in <see cref="HttpCircuitBreakerScope.Shared"/> scope, the client's one breaker), or <see langword="null"/>
    /// when there is none yet: a breaker per authority is created by the first request to it, and one forgotten beyond
    /// <see cref="HttpResilienceOptions.MaxTrackedAuthorities"/> is gone until the next request.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="uri"/> is relative, or <paramref name="clientName"/> is empty.</exception>
    public static CircuitBreaker? GetHttpCircuitBreaker(this CircuitBreakerRegistry registry, string clientName, Uri uri)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientName);

        // The names are the handler's own (HttpAuthorityPipelines): {client}:{scheme://host:port}, or {client}:* shared.
        var authority = HttpAuthority.From(uri).ToString();
        return registry.TryGet(clientName + ":" + authority, out var breaker)
            || registry.TryGet(clientName + ":" + HttpAuthorityRegistry<object>.SharedAuthority, out breaker)
            ? breaker
            : null;
    }
}
