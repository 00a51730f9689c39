namespace Resilience.Http;

/// <summary>Which requests share a circuit breaker.</summary>
public enum HttpCircuitBreakerScope
{
    /// <summary>One breaker per authority (scheme, host and port), so one failing host does not block the others.</summary>
    PerAuthority = 0,

    /// <summary>One breaker for every request of the client, whatever host it addresses.</summary>
    Shared,
}
