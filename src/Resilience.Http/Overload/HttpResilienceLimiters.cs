using Resilience.AdaptiveConcurrency;
using Resilience.AdaptiveThrottling;

namespace Resilience.Http;

/// <summary>
/// The adaptive concurrency limiters and throttlers of the clients registered with <c>AddResilienceHttpHandler</c>, one per
/// authority the client has called, for a status page; take it from the container.
/// </summary>
/// <remarks>
/// Each is named <c>{client}:{authority}</c>, like the authority's breaker, and read live: <see cref="AdaptiveConcurrencyLimiter.Limit"/>,
/// <see cref="AdaptiveConcurrencyLimiter.InFlight"/>, <see cref="AdaptiveConcurrencyLimiter.Queued"/>,
/// <see cref="AdaptiveThrottler.RejectionProbability"/>. A client not used yet, or with the feature off, has none.
/// </remarks>
public sealed class HttpResilienceLimiters
{
    private readonly HttpResilienceClients _clients;

    internal HttpResilienceLimiters(HttpResilienceClients clients) => _clients = clients;

    /// <summary>Lists the concurrency limiters of <paramref name="clientName"/>'s authorities in force now.</summary>
    /// <param name="clientName">The client's name.</param>
    /// <returns>The limiters; empty when the client has not sent a request yet or its limit is off.</returns>
    public IReadOnlyList<AdaptiveConcurrencyLimiter> GetConcurrencyLimiters(string clientName)
    {
        ArgumentNullException.ThrowIfNull(clientName);
        var limiters = new List<AdaptiveConcurrencyLimiter>();
        if (_clients.IsInUse(clientName))
        {
            foreach (var pipelines in _clients.Get(clientName).GetAuthorities())
            {
                if (pipelines.Limiter is { } limiter)
                {
                    limiters.Add(limiter);
                }
            }
        }

        return limiters;
    }

    /// <summary>Lists the adaptive throttlers of <paramref name="clientName"/>'s authorities in force now.</summary>
    /// <param name="clientName">The client's name.</param>
    /// <returns>The throttlers; empty when the client has not sent a request yet or throttling is off.</returns>
    public IReadOnlyList<AdaptiveThrottler> GetThrottlers(string clientName)
    {
        ArgumentNullException.ThrowIfNull(clientName);
        var throttlers = new List<AdaptiveThrottler>();
        if (_clients.IsInUse(clientName))
        {
            foreach (var pipelines in _clients.Get(clientName).GetAuthorities())
            {
                if (pipelines.Throttler is { } throttler)
                {
                    throttlers.Add(throttler);
                }
            }
        }

        return throttlers;
    }
}
