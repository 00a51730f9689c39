namespace Resilience.Http;

/// <summary>
/// Holds one state (a circuit breaker, in the handler) per authority, or one for all requests in
/// <see cref="HttpCircuitBreakerScope.Shared"/> scope, for at most <see cref="HttpResilienceOptions.MaxTrackedAuthorities"/> authorities.
/// </summary>
/// <remarks>
/// Beyond the limit the least recently used authority is forgotten (its state is dropped; a breaker that was open closes
/// for that host). This bounds memory when a client follows URIs it does not control.
/// </remarks>
internal sealed class HttpAuthorityRegistry<TState>
    where TState : class
{
    /// <summary>The authority reported for every request in shared scope.</summary>
    public const string SharedAuthority = "*";

    private readonly HttpCircuitBreakerScope _scope;
    private readonly Func<string, TState> _factory;
    private readonly BoundedLruMap<HttpAuthority, Tracked>? _perAuthority;
    private readonly Tracked? _shared;

    public HttpAuthorityRegistry(HttpCircuitBreakerScope scope, int maxTrackedAuthorities, Func<string, TState> factory, Action<string, TState>? evicted = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _scope = scope;
        _factory = factory;
        if (scope == HttpCircuitBreakerScope.Shared)
        {
            _shared = new Tracked(SharedAuthority, factory(SharedAuthority));
        }
        else
        {
            _perAuthority = new BoundedLruMap<HttpAuthority, Tracked>(maxTrackedAuthorities)
            {
                Evicted = evicted is null ? null : (_, tracked) => evicted(tracked.Name, tracked.State),
            };
        }
    }

    public int Count => _perAuthority?.Count ?? 1;

    /// <summary>Returns the state for <paramref name="requestUri"/> and the authority's log-safe name (<c>scheme://host:port</c>).</summary>
    /// <remarks>Allocation-free once the authority is tracked.</remarks>
    public TState Get(Uri requestUri, out string authority)
    {
        if (_shared is { } shared)
        {
            authority = shared.Name;
            return shared.State;
        }

        var tracked = _perAuthority!.GetOrAdd(HttpAuthority.From(requestUri), static (key, factory) =>
        {
            var name = key.ToString();
            return new Tracked(name, factory(name));
        }, _factory);
        authority = tracked.Name;
        return tracked.State;
    }

    public HttpCircuitBreakerScope Scope => _scope;

    private sealed class Tracked(string name, TState state)
    {
        public string Name { get; } = name;

        public TState State { get; } = state;
    }
}
