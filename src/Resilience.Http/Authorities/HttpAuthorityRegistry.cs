namespace Resilience.Http;

/// <summary>
/// Holds one state (a circuit breaker, in the handler) per authority, or one for all requests in
/// <see cref="HttpCircuitBreakerScope.Shared"/> scope, for at most <see cref="HttpResilienceOptions.MaxTrackedAuthorities"/> authorities.
/// </summary>
/// <remarks>
/// Beyond the limit the least recently used authority whose state may be forgotten (<c>evictable</c>: in the handler, a
/// closed breaker) is dropped; only when none may, the least recently used one is dropped anyway, so memory stays bounded
/// when a client follows URIs it does not control. Adding an authority, evicting another and the eviction callback run
/// under one lock, so the callback never races the creation of a new state for the same authority.
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
    private readonly Lock _adding = new();

    public HttpAuthorityRegistry(
        HttpCircuitBreakerScope scope, int maxTrackedAuthorities, Func<string, TState> factory, Action<string, TState>? evicted = null, Func<TState, bool>? evictable = null)
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
                Evictable = evictable is null ? null : tracked => evictable(tracked.State),
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

        var key = HttpAuthority.From(requestUri);
        if (!_perAuthority!.TryGetValue(key, out var tracked))
        {
            lock (_adding)
            {
                tracked = _perAuthority.GetOrAdd(key, static (key, factory) =>
                {
                    var name = key.ToString();
                    return new Tracked(name, factory(name));
                }, _factory);
            }
        }

        authority = tracked.Name;
        return tracked.State;
    }

    public HttpCircuitBreakerScope Scope => _scope;

    /// <summary>Gets the one state of shared scope; <see langword="null"/> per authority.</summary>
    public TState? Shared => _shared?.State;

    /// <summary>Lists the tracked authorities with their state, so a rebuilt client can take them over.</summary>
    public List<(HttpAuthority Key, string Name, TState State)> GetTracked()
    {
        var tracked = new List<(HttpAuthority, string, TState)>();
        if (_perAuthority is not null)
        {
            foreach (var (key, entry) in _perAuthority.GetEntries())
            {
                tracked.Add((key, entry.Name, entry.State));
            }
        }

        return tracked;
    }

    /// <summary>Tracks <paramref name="state"/> for <paramref name="key"/> unless the authority is tracked already (per-authority scope only).</summary>
    public void Adopt(HttpAuthority key, string name, TState state)
    {
        lock (_adding)
        {
            _perAuthority!.GetOrAdd(key, static (_, tracked) => tracked, new Tracked(name, state));
        }
    }

    private sealed class Tracked(string name, TState state)
    {
        public string Name { get; } = name;

        public TState State { get; } = state;
    }
}
