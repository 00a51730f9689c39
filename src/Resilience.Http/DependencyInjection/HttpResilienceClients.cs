using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;

namespace Resilience.Http;

/// <summary>The resilience state of every named client, kept for the container's lifetime so <c>IHttpClientFactory</c>'s handler rotation does not reset breakers, budgets or the cache.</summary>
internal sealed class HttpResilienceClients(IServiceProvider services) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<HttpResilienceEngine>> _engines = new(StringComparer.Ordinal);

    public HttpResilienceEngine Get(string clientName) =>
        _engines.GetOrAdd(clientName, static (name, self) => new Lazy<HttpResilienceEngine>(() => self.Create(name)), this).Value;

    public void Dispose()
    {
        foreach (var engine in _engines.Values)
        {
            if (engine.IsValueCreated)
            {
                engine.Value.Dispose();
            }
        }
    }

    private HttpResilienceEngine Create(string clientName) => new(
        clientName,
        services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get(clientName),
        services.GetService<TimeProvider>(),
        services.GetService<ILoggerFactory>(),
        services.GetRequiredService<CircuitBreakerRegistry>(),
        services.GetService<IMeterFactory>());
}
