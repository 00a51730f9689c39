using System.Net;
using System.Text;
using Resilience.Http.Testing;

namespace Resilience.Http.Tests.Infrastructure;

public sealed class FaultServerTests : IAsyncLifetime, IDisposable
{
    private FaultServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FaultServer.StartAsync();
        _client = new HttpClient { BaseAddress = _server.BaseAddress };
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Enqueue_QueueOfResponses_ServedInOrderThenDefault()
    {
        _server.Enqueue(FaultResponse.Status(500), FaultResponse.RetryAfterSeconds(503, 7), FaultResponse.Ok("a"));

        using var first = await _client.GetAsync(new Uri("/x", UriKind.Relative));
        using var second = await _client.GetAsync(new Uri("/x", UriKind.Relative));
        using var third = await _client.GetAsync(new Uri("/x", UriKind.Relative));
        using var fourth = await _client.GetAsync(new Uri("/x", UriKind.Relative));

        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), second.Headers.RetryAfter?.Delta);
        Assert.Equal("a", await third.Content.ReadAsStringAsync());
        Assert.Equal("ok", await fourth.Content.ReadAsStringAsync());
        Assert.Equal(4, _server.RequestCount);
    }

    [Fact]
    public async Task Script_PerPath_TakesPrecedenceOverSharedQueue()
    {
        _server.Enqueue(FaultResponse.Status(502));
        _server.Script("/special", FaultResponse.Status(429));

        using var special = await _client.GetAsync(new Uri("/special", UriKind.Relative));
        using var other = await _client.GetAsync(new Uri("/other", UriKind.Relative));
        using var specialAgain = await _client.GetAsync(new Uri("/special", UriKind.Relative));

        Assert.Equal(HttpStatusCode.TooManyRequests, special.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, other.StatusCode);
        Assert.Equal(HttpStatusCode.OK, specialAgain.StatusCode);
        Assert.Equal(2, _server.RequestsTo("/special").Count);
    }

    [Fact]
    public async Task RetryAfterDate_HttpDateForm_ParsedByClassifier()
    {
        var now = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        _server.Enqueue(FaultResponse.RetryAfterDate(429, now.AddSeconds(30)));

        using var response = await _client.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(HttpFailureClassifier.TryGetRetryAfter(response.Headers, now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(30), delay);
    }

    [Fact]
    public async Task Requests_Recorded_MethodPathQueryHeadersAndBody()
    {
        var body = new byte[] { 0, 1, 2, 254, 255 };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/orders?page=2", UriKind.Relative)) { Content = new ByteArrayContent(body) };
        request.Headers.Add("Idempotency-Key", "key-1");

        using var response = await _client.SendAsync(request);

        var recorded = Assert.Single(_server.Requests);
        Assert.Equal("POST", recorded.Method);
        Assert.Equal("/orders", recorded.Path);
        Assert.Equal("?page=2", recorded.Query);
        Assert.Equal("key-1", recorded.Header("Idempotency-Key"));
        Assert.Equal(body, recorded.Body);
    }

    [Fact]
    public async Task Hang_ReleasedBySignal_RespondsAfterRelease()
    {
        var gate = new HangGate();
        _server.Enqueue(FaultResponse.Hang(gate));

        var pending = _client.GetAsync(new Uri("/slow", UriKind.Relative));
        await gate.Entered;
        Assert.False(pending.IsCompleted);

        gate.Release();
        using var response = await pending;

        Assert.Equal("released", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, gate.Entries);
    }

    [Fact]
    public async Task Hang_ClientCancels_ServerObservesAbort()
    {
        var gate = new HangGate();
        _server.Enqueue(FaultResponse.Hang(gate));
        using var cts = new CancellationTokenSource();

        var pending = _client.GetAsync(new Uri("/slow", UriKind.Relative), cts.Token);
        await gate.Entered;
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await gate.Aborted;
    }

    [Fact]
    public async Task Drop_AbortsConnection_ClientSeesHttpRequestException()
    {
        _server.Enqueue(FaultResponse.Drop());

        await Assert.ThrowsAsync<HttpRequestException>(() => _client.GetAsync(new Uri("/gone", UriKind.Relative)));
        using var next = await _client.GetAsync(new Uri("/gone", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(2, _server.RequestCount);
    }

    [Fact]
    public async Task WaitForRequestsAsync_CompletesWhenCountReached()
    {
        var waiting = _server.WaitForRequestsAsync(2);
        using var first = await _client.GetAsync(new Uri("/", UriKind.Relative));
        Assert.False(waiting.IsCompleted);

        using var second = await _client.GetAsync(new Uri("/", UriKind.Relative));
        await waiting;

        Assert.Equal(2, _server.RequestCount);
    }

    [Fact]
    public async Task Ok_Chunked_SentWithoutContentLength()
    {
        _server.Enqueue(FaultResponse.Ok("streamed", chunked: true));

        using var response = await _client.GetAsync(new Uri("/", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);

        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Equal("streamed", Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()));
    }
}
