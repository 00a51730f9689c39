using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using CircuitBreakerManualControl = Polly.CircuitBreaker.CircuitBreakerManualControl;
using Resilience.CircuitBreaking;
using Resilience.Http;

namespace Resilience.Benchmarks.Io;

/// <summary>
/// A real GET over loopback to an in-process Kestrel server: a plain <see cref="HttpClient"/> against the same request
/// through Microsoft.Extensions.Http.Resilience's standard handler (rate limiter, total timeout, retry, breaker, attempt
/// timeout). The network stack dominates; the interesting numbers are the added time and bytes per request.
/// The <c>OpenCircuit_*</c> rows reject without touching the network: each stack's circuit is forced open with its own
/// manual control (ours <c>Isolate()</c>, Microsoft's <c>CircuitBreakerManualControl.IsolateAsync()</c>), and the caller
/// gets ours as a 503 response or an <see cref="HttpResilienceException"/>, Microsoft's as a circuit exception.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("io")]
public class HttpBenchmarks
{
    private LoopbackServer _server = null!;
    private ServiceProvider _services = null!;
    private HttpClient _plain = null!;
    private HttpClient _factoryOnly = null!;
    private HttpClient _standard = null!;
    private HttpClient _ours = null!;
    private HttpClient _oursOpen = null!;
    private HttpClient _oursOpenException = null!;
    private HttpClient _standardOpen = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = LoopbackServer.StartAsync().GetAwaiter().GetResult();
        _plain = new HttpClient(new SocketsHttpHandler()) { BaseAddress = _server.Address };

        var services = new ServiceCollection();
        services.AddHttpClient("factory-only", client => client.BaseAddress = _server.Address);
        services.AddHttpClient("standard", client => client.BaseAddress = _server.Address).AddStandardResilienceHandler();

        // Ours with its standard preset: total + attempt timeouts, safe retries, per-authority breaker and retry budget.
        services.AddHttpClient("ours", client => client.BaseAddress = _server.Address).AddResilienceHttpHandler();

        // The same stacks with their circuits forced open.
        var control = new CircuitBreakerManualControl();
        services.AddHttpClient("standard-open", client => client.BaseAddress = _server.Address)
            .AddStandardResilienceHandler(o => o.CircuitBreaker.ManualControl = control);
        services.AddHttpClient("ours-open", client => client.BaseAddress = _server.Address).AddResilienceHttpHandler();
        services.AddHttpClient("ours-open-exception", client => client.BaseAddress = _server.Address)
            .AddResilienceHttpHandler(o => o.FailureSurface = HttpFailureSurface.Exception);
        _services = services.BuildServiceProvider();
        var factory = _services.GetRequiredService<IHttpClientFactory>();
        _factoryOnly = factory.CreateClient("factory-only");
        _standard = factory.CreateClient("standard");
        _ours = factory.CreateClient("ours");
        _standardOpen = factory.CreateClient("standard-open");
        _oursOpen = factory.CreateClient("ours-open");
        _oursOpenException = factory.CreateClient("ours-open-exception");
        control.IsolateAsync().GetAwaiter().GetResult();
        Isolate(_oursOpen, "ours-open");
        Isolate(_oursOpenException, "ours-open-exception");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _services.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public Task<int> Plain_HttpClient() => GetAsync(_plain);

    /// <summary>IHttpClientFactory's own handlers (logging scopes), without resilience: separates the factory's cost from the handler's.</summary>
    [Benchmark]
    public Task<int> Factory_NoResilience() => GetAsync(_factoryOnly);

    [Benchmark]
    public Task<int> MicrosoftStandardResilienceHandler() => GetAsync(_standard);

    [Benchmark]
    public Task<int> Ours_ResilienceHttpHandler() => GetAsync(_ours);

    [Benchmark]
    public async Task<int> OpenCircuit_MicrosoftStandard()
    {
        try
        {
            using var response = await _standardOpen.GetAsync(new Uri("/", UriKind.Relative)).ConfigureAwait(false);
            return (int)response.StatusCode;
        }
        catch (Polly.CircuitBreaker.BrokenCircuitException)
        {
            return 0;
        }
    }

    [Benchmark]
    public async Task<int> OpenCircuit_Ours_Response503()
    {
        using var response = await _oursOpen.GetAsync(new Uri("/", UriKind.Relative)).ConfigureAwait(false);
        return (int)response.StatusCode;
    }

    [Benchmark]
    public async Task<int> OpenCircuit_Ours_Exception()
    {
        try
        {
            using var response = await _oursOpenException.GetAsync(new Uri("/", UriKind.Relative)).ConfigureAwait(false);
            return (int)response.StatusCode;
        }
        catch (HttpResilienceException)
        {
            return 0;
        }
    }

    /// <summary>Creates the client's breaker for the server's authority with one real request, then isolates it.</summary>
    private void Isolate(HttpClient client, string name)
    {
        GetAsync(client).GetAwaiter().GetResult();
        var breakerName = $"{name}:{_server.Address.Scheme}://{_server.Address.Host}:{_server.Address.Port}";
        if (!_services.GetRequiredService<CircuitBreakerRegistry>().TryGet(breakerName, out var breaker))
        {
            throw new InvalidOperationException($"No breaker named {breakerName}.");
        }

        breaker.Isolate();
    }

    private static async Task<int> GetAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/", UriKind.Relative)).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        return body.Length;
    }
}
