using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.DependencyInjection;

namespace Resilience.Http;

/// <summary>
/// The resilience state of every named client, kept for the container's lifetime so <c>IHttpClientFactory</c>'s handler
/// rotation does not reset breakers, budgets or the cache. When a client's options reload (valid ones only: invalid ones
/// are rejected and logged before they get here), its engine is rebuilt from them and takes over that state.
/// </summary>
internal sealed class HttpResilienceClients : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<HttpEngineSlot>> _engines = new(StringComparer.Ordinal);
    private readonly IServiceProvider _services;
    private readonly IOptionsMonitor<HttpResilienceOptions> _options;
    private readonly IDisposable? _subscription;
    private readonly Lock _reloading = new();

    public HttpResilienceClients(IServiceProvider services)
    {
        _services = services;
        _options = services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>();
        _subscription = _options.OnChange(OnOptionsChanged);
    }

    /// <summary>Returns the client's engine in force.</summary>
    public HttpResilienceEngine Get(string clientName) => GetSlot(clientName).Current;

    /// <summary>Returns whether the client's handler has been built (so <c>HttpClient</c> instances of it may exist).</summary>
    public bool IsInUse(string clientName) => _engines.TryGetValue(clientName, out var slot) && slot.IsValueCreated;

    /// <summary>Returns where the client's engine in force is kept, for the handlers.</summary>
    public HttpEngineSlot GetSlot(string clientName) =>
        _engines.GetOrAdd(clientName, static (name, self) => new Lazy<HttpEngineSlot>(() => new HttpEngineSlot(self.Create(name, self._options.Get(name), null))), this).Value;

    public void Dispose()
    {
        _subscription?.Dispose();
        foreach (var engine in _engines.Values)
        {
            if (engine.IsValueCreated)
            {
                engine.Value.Current.Dispose();
            }
        }
    }

    private void OnOptionsChanged(HttpResilienceOptions options, string? clientName)
    {
        if (clientName is null || !IsInUse(clientName))
        {
            // Not built yet: it will be built from the options in force when first used.
            return;
        }

        var slot = _engines[clientName].Value;
        lock (_reloading)
        {
            var previous = slot.Current;
            try
            {
                slot.Replace(Create(clientName, options, previous));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The monitor's listeners must not fail, and the engine in force stays.
                HttpLog.ReloadFailed(previous.Logger, e, clientName);
            }
        }
    }

    private HttpResilienceEngine Create(string clientName, HttpResilienceOptions options, HttpResilienceEngine? previous) => new(
        clientName,
        options,
        _services.GetService<TimeProvider>(),
        _services.GetService<ILoggerFactory>(),
        _services.GetRequiredService<CircuitBreakerRegistry>(),
        _services.GetService<IMeterFactory>(),
        previous,
        _services.GetService<ResilienceRandom>()?.Random);
}
