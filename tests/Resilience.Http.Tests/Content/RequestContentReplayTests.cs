using System.Net.Http.Headers;
using Resilience.Http.Testing;

namespace Resilience.Http.Tests.Content;

public sealed class RequestContentReplayTests : IAsyncLifetime
{
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task DelegatingHandler_SameMessageSentTwice_BothArrive()
    {
        using var client = CreateClient(sends: 2, limit: 1024, out _);

        using var response = await client.GetAsync(_server.Url("/twice"));

        Assert.Equal(2, _server.RequestCount);
        Assert.All(_server.Requests, r => Assert.Equal("GET", r.Method));
    }

    [Fact]
    public async Task DelegatingHandler_NonSeekableStreamWithinLimit_ResentByteForByte()
    {
        var body = RandomBytes(100_000);
        using var client = CreateClient(sends: 3, limit: 200_000, out var handler);
        using var content = new StreamContent(new NonSeekableStream(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Put, _server.Url("/upload")) { Content = content };

        using var response = await client.SendAsync(request);

        Assert.Equal(ContentReplayKind.Buffered, handler.LastKind);
        Assert.Equal(3, _server.RequestCount);
        Assert.All(_server.Requests, r =>
        {
            Assert.Equal(body, r.Body);
            Assert.Equal("application/octet-stream", r.Header("Content-Type"));
        });
        Assert.Same(content, request.Content);
    }

    [Fact]
    public async Task DelegatingHandler_InMemoryContent_ResentWithoutCopy()
    {
        using var client = CreateClient(sends: 2, limit: 0, out var handler);
        using var content = new StringContent("{\"prompt\":\"hello\"}", System.Text.Encoding.UTF8, "application/json");

        using var response = await client.PostAsync(_server.Url("/json"), content);

        Assert.Equal(ContentReplayKind.InMemory, handler.LastKind);
        Assert.Equal(2, _server.RequestCount);
        Assert.All(_server.Requests, r => Assert.Equal("{\"prompt\":\"hello\"}", System.Text.Encoding.UTF8.GetString(r.Body)));
    }

    [Fact]
    public async Task PrepareAsync_DeclaredLengthAboveLimit_NotResendableAndUnread()
    {
        var stream = new MemoryStream(RandomBytes(5000));
        using var request = new HttpRequestMessage(HttpMethod.Post, _server.Url("/big")) { Content = new StreamContent(stream) };

        var replay = await RequestContentReplay.PrepareAsync(request, 1000, CancellationToken.None);

        Assert.Equal(ContentReplayKind.TooLarge, replay.Kind);
        Assert.False(replay.CanResend);
        Assert.Equal(0, stream.Position);
    }

    [Fact]
    public async Task DelegatingHandler_DeclaredLengthAboveLimit_SentOnceIntact()
    {
        var body = RandomBytes(5000);
        using var client = CreateClient(sends: 2, limit: 1000, out var handler);

        using var response = await client.PostAsync(_server.Url("/big"), new StreamContent(new MemoryStream(body)));

        Assert.Equal(ContentReplayKind.TooLarge, handler.LastKind);
        var recorded = Assert.Single(_server.Requests);
        Assert.Equal(body, recorded.Body);
    }

    [Fact]
    public async Task DelegatingHandler_UnknownLengthAboveLimit_SentOnceIntactAndOriginalRestored()
    {
        var body = RandomBytes(50_000);
        using var client = CreateClient(sends: 2, limit: 1000, out var handler);
        using var content = new StreamContent(new NonSeekableStream(body));
        using var request = new HttpRequestMessage(HttpMethod.Post, _server.Url("/stream")) { Content = content };

        using var response = await client.SendAsync(request);

        Assert.Equal(ContentReplayKind.UnknownLengthTooLarge, handler.LastKind);
        var recorded = Assert.Single(_server.Requests);
        Assert.Equal(body, recorded.Body);
        Assert.Same(content, request.Content);
    }

    [Fact]
    public async Task PrepareAsync_UnknownLengthWithinLimit_Buffered()
    {
        var body = RandomBytes(3000);
        using var request = new HttpRequestMessage(HttpMethod.Post, _server.Url("/")) { Content = new StreamContent(new NonSeekableStream(body)) };

        var replay = await RequestContentReplay.PrepareAsync(request, 3000, CancellationToken.None);

        Assert.Equal(ContentReplayKind.Buffered, replay.Kind);
        Assert.True(replay.CanResend);
        Assert.Equal(body, replay.BufferedBody.ToArray());
    }

    [Fact]
    public async Task PrepareAsync_StreamBody_BufferedInPooledMemoryReturnedOnRestore()
    {
        var body = RandomBytes(512 * 1024);
        async Task<long> RoundTripAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, "http://api.test/") { Content = new StreamContent(new NonSeekableStream(body)) };
            var before = GC.GetAllocatedBytesForCurrentThread();
            var replay = await RequestContentReplay.PrepareAsync(request, 1024 * 1024, CancellationToken.None);
            Assert.Equal(body, replay.BufferedBody.ToArray());
            replay.Restore(request);
            return GC.GetAllocatedBytesForCurrentThread() - before - body.Length;
        }

        await RoundTripAsync();
        var allocated = await RoundTripAsync();

        // The 512 KiB buffer comes from the pool and goes back to it: the second request reuses it (the ToArray above is excluded).
        Assert.InRange(allocated, 0, 64 * 1024);
    }

    [Fact]
    public async Task PrepareAsync_NoContent_CompletesSynchronously()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/"));

        var pending = RequestContentReplay.PrepareAsync(request, 1000, CancellationToken.None);

        Assert.True(pending.IsCompletedSuccessfully);
        var replay = await pending;
        Assert.Equal(ContentReplayKind.None, replay.Kind);
        Assert.True(replay.CanResend);
    }

    private static HttpClient CreateClient(int sends, int limit, out SendManyHandler handler)
    {
        handler = new SendManyHandler(sends, limit) { InnerHandler = new SocketsHttpHandler() };
        return new HttpClient(handler);
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Sends each request <c>sends</c> times through the inner handler when its body can be resent, once otherwise.</summary>
    private sealed class SendManyHandler(int sends, int limit) : DelegatingHandler
    {
        public ContentReplayKind LastKind { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var replay = await RequestContentReplay.PrepareAsync(request, limit, cancellationToken);
            LastKind = replay.Kind;
            var attempts = replay.CanResend ? sends : 1;
            try
            {
                for (var attempt = 1; ; attempt++)
                {
                    replay.PrepareAttempt(request);
                    var response = await base.SendAsync(request, cancellationToken);
                    if (attempt == attempts)
                    {
                        return response;
                    }

                    response.Dispose();
                }
            }
            finally
            {
                replay.Restore(request);
            }
        }
    }
}
