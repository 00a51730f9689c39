using System.Collections.Concurrent;
using Resilience.CircuitBreaking;
using Resilience.Cluster;

namespace ContentService.Cluster;

/// <summary>Shares the LLM clients' breakers with the cluster, once each, as the HTTP handler creates them.</summary>
internal sealed class ProviderBreakerSharing(ClusterCoordinator coordinator, CircuitBreakerRegistry registry)
{
    private readonly ConcurrentDictionary<string, CircuitBreaker> _shared = new(StringComparer.Ordinal);

    /// <summary>The shared breakers, for the status page.</summary>
    public ICollection<CircuitBreaker> Breakers => _shared.Values;

    /// <summary>Shares the breaker named <paramref name="name"/> (<c>{client}:{authority}</c>) unless it is already.</summary>
    /// <exception cref="InvalidOperationException">The registry has no such breaker: the handler no longer keeps its breakers in the container's registry.</exception>
    public void Share(string name)
    {
        if (_shared.ContainsKey(name))
        {
            return;
        }

        if (!registry.TryGet(name, out var breaker))
        {
            throw new InvalidOperationException($"The provider breaker '{name}' is not in the container's CircuitBreakerRegistry, so it cannot be made cluster-wide.");
        }

        if (_shared.TryAdd(name, breaker))
        {
            coordinator.Share(breaker);
        }
    }
}
