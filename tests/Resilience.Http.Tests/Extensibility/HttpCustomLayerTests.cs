using System.Collections.Concurrent;
using Resilience.Http.Testing;
using Resilience.Http.Tests.Handler;

namespace Resilience.Http.Tests.Extensibility;

/// <summary>A layer of the user's own in each authority's pipeline (<see cref="HttpResilienceOptions.ConfigurePipeline"/>).</summary>
public sealed class HttpCustomLayerTests : IAsyncLifetime
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ConfigurePipeline_AttemptLayer_RunsOncePerAttempt_WithTheRequestVisible()
    {
        var layer = new RecordingLayer();
        var authorities = new ConcurrentQueue<string>();
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o => o.ConfigurePipeline = (builder, authority) =>
        {
            authorities.Enqueue(authority);
            builder.AddLayer(CustomLayerPosition.Attempt, layer);
        }));
        _server.Script("/layered", FaultResponse.Status(503), FaultResponse.Status(503), FaultResponse.Ok("done"));
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/layered?q=2"));

        using var response = await fixture.SendAsync(request).WaitAsync(Guard);

        Assert.Equal("done", await response.Content.ReadAsStringAsync());
        Assert.Equal([0, 1, 2], layer.Seen.Select(static s => s.Attempt));
        Assert.All(layer.Seen, s => Assert.Same(request, s.Request));
        Assert.Contains(HttpAuthority.From(_server.BaseAddress).ToString(), authorities);
    }

    private sealed class RecordingLayer : ResilienceLayer
    {
        public ConcurrentQueue<(int Attempt, HttpRequestMessage? Request)> Seen { get; } = new();

        public override string Name => "recording";

        protected override ValueTask<Outcome<TResult>> InvokeAsync<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
        {
            Seen.Enqueue((context.Attempt, HttpResilienceProperties.GetRequest(context)));
            return callback(context, state);
        }
    }
}
