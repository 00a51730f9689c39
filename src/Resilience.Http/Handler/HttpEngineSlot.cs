namespace Resilience.Http;

/// <summary>
/// The engine of one client in force: the handlers <c>IHttpClientFactory</c> rotates all read it, and a configuration
/// reload replaces it. A request reads it once, so it runs start to end under one set of options.
/// </summary>
internal sealed class HttpEngineSlot(HttpResilienceEngine engine)
{
    private HttpResilienceEngine _current = engine;

    public HttpResilienceEngine Current => Volatile.Read(ref _current);

    public void Replace(HttpResilienceEngine engine) => Volatile.Write(ref _current, engine);
}
