using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Http;

namespace Resilience.Benchmarks.Io;

/// <summary>
/// A real GET over loopback to an in-process Kestrel server: a plain <see cref="HttpClient"/> against the same request
/// through Microsoft.Extensions.Http.Resilience's standard handler (rate limiter, total timeout, retry, breaker, attempt
/// timeout). The network stack dominates; the interesting numbers are the added time and bytes per request.
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
        _services = services.BuildServiceProvider();
        var factory = _services.GetRequiredService<IHttpClientFactory>();
        _factoryOnly = factory.CreateClient("factory-only");
        _standard = factory.CreateClient("standard");
        _ours = factory.CreateClient("ours");
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

    private static async Task<int> GetAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/", UriKind.Relative)).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        return body.Length;
    }
}
