using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using ContentService.Security;
using Resilience.Cluster;

namespace ContentService.Cluster;

/// <summary>The per-client API allowance shared by every instance: one cluster-wide limiter per client key, made on its first request.</summary>
internal sealed class ClusterKeyLimits(ClusterCoordinator coordinator, TimeProvider time)
{
    /// <summary>
    /// Clients with a cluster-wide allowance. The coordinator keeps every limiter it created (and leases for each once a
    /// window), so addresses beyond this many get this instance's share of the limit instead, counted here only.
    /// </summary>
    public const int MaxSharedKeys = 256;

    private readonly ConcurrentDictionary<string, ClusterKeyLimiter> _limiters = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The cluster-wide limiters made so far, for the status page.</summary>
    public ICollection<ClusterKeyLimiter> Limiters => _limiters.Values;

    /// <summary>Returns <paramref name="key"/>'s limiter: cluster-wide, or a local share past <see cref="MaxSharedKeys"/>.</summary>
    public RateLimiter Get(string key, int permitLimit, TimeSpan window)
    {
        if (_limiters.TryGetValue(key, out var existing))
        {
            return existing;
        }

        lock (_gate)
        {
            if (_limiters.TryGetValue(key, out existing))
            {
                return existing;
            }

            if (_limiters.Count >= MaxSharedKeys)
            {
                return new FixedWindowLimiter(Math.Max(1, permitLimit / Math.Max(1, coordinator.LiveInstances)), window, time);
            }

            var shared = coordinator.CreateRateLimiter("content-service:" + key, permitLimit, window);
            var limiter = new ClusterKeyLimiter(key, shared, permitLimit, window, coordinator, time);
            _limiters[key] = limiter;
            return limiter;
        }
    }
}
