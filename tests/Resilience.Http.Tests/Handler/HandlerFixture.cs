using Resilience.CircuitBreaking;
using Resilience.Http.Testing;

namespace Resilience.Http.Tests.Handler;

/// <summary>A client with the resilience handler over a real socket handler, a tracking layer in between and a fake clock.</summary>
internal sealed class HandlerFixture : IDisposable
{
    public HandlerFixture(HttpResilienceOptions options, string name = "test", CircuitBreakerRegistry? registry = null)
    {
        Time = new DelayRecordingTimeProvider();
        Tracking = new TrackingHandler(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        Handler = new ResilienceHttpHandler(name, options, Time, null, registry) { InnerHandler = Tracking };
        Client = new HttpClient(Handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public DelayRecordingTimeProvider Time { get; }

    public TrackingHandler Tracking { get; }

    public ResilienceHttpHandler Handler { get; }

    public HttpClient Client { get; }

    /// <summary>Options that retry without waiting, for tests about what is retried rather than when.</summary>
    public static HttpResilienceOptions Immediate(Action<HttpResilienceOptions>? configure = null)
    {
        var options = new HttpResilienceOptions { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero };
        configure?.Invoke(options);
        return options;
    }

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken = default) =>
        Time.DriveAsync(Client.SendAsync(request, cancellationToken));

    public Task<HttpResponseMessage> GetAsync(Uri uri) => SendAsync(new HttpRequestMessage(HttpMethod.Get, uri));

    public void Dispose() => Client.Dispose();
}
