using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using ContentService.Realtime;
using ContentService.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Resilience.Testing;

namespace ContentService.Tests.Realtime;

/// <summary><c>/ws</c> on Kestrel over loopback, with real WebSocket clients (and one raw socket that never answers pings).</summary>
public sealed class RealtimeTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private readonly List<ClientWebSocket> _sockets = [];
    private ContentServiceFactory? _service;
    private string _database = "";
    private Uri _address = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync(postgres.ConnectionString);

    public async Task DisposeAsync()
    {
        _sockets.ForEach(s => s.Dispose());
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }

    [Fact]
    public async Task Requests_PingGetsPong_GetTaskGetsTheTask_BadMessagesGetErrorIds()
    {
        Start();
        using var writer = _service!.CreateWriter();
        var taskId = await ServiceHarness.CreateTaskAsync(_service, new { topic = "over a socket" });
        var socket = await ConnectAsync();

        await SendAsync(socket, """{"op":"ping","id":1}""");
        var pong = await ReceiveAsync(socket);
        await SendAsync(socket, $$"""{"op":"get_task","id":"t","taskId":"{{taskId}}"}""");
        var task = await ReceiveAsync(socket);
        await SendAsync(socket, $$"""{"op":"get_task","id":"u","taskId":"{{Guid.NewGuid()}}"}""");
        var unknown = await ReceiveAsync(socket);
        await SendAsync(socket, """{"op":"get_task","id":"m","taskId":"42"}""");
        var malformed = await ReceiveAsync(socket);
        await SendAsync(socket, """{"op":"fly","id":"o"}""");
        var badOp = await ReceiveAsync(socket);
        await SendAsync(socket, "not json");
        var notJson = await ReceiveAsync(socket);

        Assert.Equal(("pong", 1), (pong.GetProperty("op").GetString(), pong.GetProperty("id").GetInt32()));
        Assert.Equal(("task", "t", taskId), (task.GetProperty("op").GetString(), task.GetProperty("id").GetString(), task.GetProperty("task").GetProperty("id").GetGuid()));
        AssertError(unknown, "u", "ERR_NOT_FOUND", null);
        AssertError(malformed, "m", "ERR_VALIDATION", "taskId");
        AssertError(badOp, "o", "ERR_VALIDATION", "op");
        AssertError(notJson, null, "ERR_VALIDATION", "body");
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task InFlight_Over8OnAConnectionOr24InAll_IsRefusedAtOnce_TheOthersAreAnswered()
    {
        Start();
        var limits = _service!.Services.GetRequiredService<RealtimeLimits>();
        var sockets = new[] { await ConnectAsync(), await ConnectAsync(), await ConnectAsync(), await ConnectAsync() };
        List<JsonElement> perConnection, global;
        var answered = new List<JsonElement>();
        await using (await TableLock.TakeAsync(_database, "content_tasks"))
        {
            for (var c = 0; c < 3; c++)
            {
                for (var i = 0; i < 8; i++)
                {
                    await SendAsync(sockets[c], $$"""{"op":"get_task","id":"{{c}}-{{i}}","taskId":"{{Guid.NewGuid()}}"}""");
                }
            }

            await WaitUntilAsync(() => limits.InFlight == 24, "24 requests in flight");
            await SendAsync(sockets[0], $$"""{"op":"get_task","id":"ninth","taskId":"{{Guid.NewGuid()}}"}""");
            await SendAsync(sockets[3], $$"""{"op":"get_task","id":"twenty-fifth","taskId":"{{Guid.NewGuid()}}"}""");
            perConnection = [await ReceiveAsync(sockets[0])];
            global = [await ReceiveAsync(sockets[3])];
        }

        for (var c = 0; c < 3; c++)
        {
            for (var i = 0; i < 8; i++)
            {
                answered.Add(await ReceiveAsync(sockets[c]));
            }
        }

        AssertError(Assert.Single(perConnection), "ninth", "ERR_CAPACITY_EXHAUSTED", null);
        AssertError(Assert.Single(global), "twenty-fifth", "ERR_CAPACITY_EXHAUSTED", null);
        Assert.Contains("8", perConnection[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("24", global[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.All(answered, a => Assert.Equal("ERR_NOT_FOUND", a.GetProperty("errorId").GetString()));
        Assert.Equal(24, answered.Select(a => a.GetProperty("id").GetString()).Distinct().Count());
        await WaitUntilAsync(() => limits.InFlight == 0, "no request in flight");
    }

    [Fact]
    public async Task Messages_OverTheAddressOrKeyLimit_CloseWithPolicyViolationAndTheReason()
    {
        Start(new() { ["Realtime:MessagesPerWindowPerAddress"] = "8", ["Realtime:MessagesPerWindowPerKey"] = "3", ["Realtime:Window"] = "00:01:00" });
        var keyed = await ConnectAsync(ContentServiceFactory.ApiKey);
        var anonymous = await ConnectAsync();

        // Both limits count a keyed message: the key's 3 use 3 of the address's 8, leaving the anonymous client 5.
        var keyedPongs = await PingUntilClosedAsync(keyed, 4);
        var anonymousPongs = await PingUntilClosedAsync(anonymous, 6);

        Assert.Equal(3, keyedPongs);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, keyed.CloseStatus);
        Assert.StartsWith("ERR_RATE_LIMITED: over 3 messages per 60 s for this key; retry in ", keyed.CloseStatusDescription, StringComparison.Ordinal);
        Assert.Equal(5, anonymousPongs);
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, anonymous.CloseStatus);
        Assert.StartsWith("ERR_RATE_LIMITED: over 8 messages per 60 s for this address; retry in ", anonymous.CloseStatusDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connections_OverThePerClientLimit_AreClosedWith1013AndTheReason_OversizedMessageWith1009()
    {
        Start(new() { ["Realtime:MaxConnectionsPerClient"] = "2", ["Realtime:MaxMessageBytes"] = "128" });
        var first = await ConnectAsync();
        await ConnectAsync();

        var third = await ConnectAsync();
        var refused = await third.ReceiveAsync(new byte[256], CancellationToken.None);
        await SendAsync(first, "{\"op\":\"ping\",\"id\":\"" + new string('x', 200) + "\"}");
        var tooBig = await first.ReceiveAsync(new byte[256], CancellationToken.None);

        Assert.Equal(WebSocketMessageType.Close, refused.MessageType);
        Assert.Equal((WebSocketCloseStatus)1013, third.CloseStatus);
        Assert.StartsWith("ERR_CAPACITY_EXHAUSTED: too many connections (2 per client", third.CloseStatusDescription, StringComparison.Ordinal);
        Assert.Equal(WebSocketMessageType.Close, tooBig.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, first.CloseStatus);
        Assert.StartsWith("ERR_PAYLOAD_TOO_LARGE", first.CloseStatusDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pings_AClientThatNeverAnswers_IsPingedThenDropped()
    {
        Start(new() { ["Realtime:PingInterval"] = "00:00:00.200", ["Realtime:PongTimeout"] = "00:00:00.500" });
        var limits = _service!.Services.GetRequiredService<RealtimeLimits>();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _address.Port);
        var stream = tcp.GetStream();
        var handshake = $"GET /ws HTTP/1.1\r\nHost: {_address.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(handshake));
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var response = await ReadHeadersAsync(stream, limit.Token);
        var opcode = await ReadFrameOpcodeAsync(stream, limit.Token);
        var clock = Stopwatch.StartNew();
        try
        {
            while (await stream.ReadAsync(new byte[256], limit.Token) > 0)
            {
                // Further pings (never answered) until the server gives up on the connection.
            }
        }
        catch (IOException)
        {
            // The server aborts the connection (reset): a peer that misses pongs gets no close handshake.
        }

        Assert.StartsWith("HTTP/1.1 101", response, StringComparison.Ordinal);
        Assert.Equal(0x9, opcode); // a ping frame
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"dropped after {clock.Elapsed}");
        await WaitUntilAsync(() => limits.Connections == 0, "the dropped connection's slot released");
    }

    [Fact]
    public async Task Shutdown_ClosesOpenConnectionsWith1001AndTheReason_PlainGetIs400()
    {
        Start();
        using var plain = _service!.CreateClient();
        using var notUpgraded = await Json.GetAsync(plain, "/ws");
        var socket = await ConnectAsync();

        var stopping = _service.DisposeAsync().AsTask();
        _service = null;
        var close = await socket.ReceiveAsync(new byte[256], CancellationToken.None);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ok", CancellationToken.None);
        await stopping;

        await Problem.AssertAsync(notUpgraded, HttpStatusCode.BadRequest, "ERR_BAD_REQUEST");
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.StartsWith("server shutting down", socket.CloseStatusDescription, StringComparison.Ordinal);
    }

    private void Start(Dictionary<string, string?>? settings = null)
    {
        var merged = new Dictionary<string, string?>(StringComparer.Ordinal) { ["Executor:Workers"] = "0" };
        foreach (var (key, value) in settings ?? [])
        {
            merged[key] = value;
        }

        _service = new ContentServiceFactory(_database, settings: merged);
        _service.UseKestrel(static o => o.Listen(IPAddress.Loopback, 0));
        _service.StartServer();
        _address = new Uri(_service.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    private async Task<ClientWebSocket> ConnectAsync(string? apiKey = null)
    {
        var socket = new ClientWebSocket();
        _sockets.Add(socket);
        if (apiKey is not null)
        {
            socket.Options.SetRequestHeader("X-Api-Key", apiKey);
        }

        await socket.ConnectAsync(new Uri($"ws://{_address.Authority}/ws"), CancellationToken.None);
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string message) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    private static async Task<JsonElement> ReceiveAsync(ClientWebSocket socket)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var buffer = new byte[16 * 1024];
        var count = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), limit.Token);
            Assert.True(result.MessageType == WebSocketMessageType.Text, $"expected a message, got {result.MessageType} ({socket.CloseStatus}: {socket.CloseStatusDescription})");
            count += result.Count;
            if (result.EndOfMessage)
            {
                return JsonDocument.Parse(buffer.AsMemory(0, count)).RootElement.Clone();
            }
        }
    }

    /// <summary>Sends pings until the server closes; returns how many were answered.</summary>
    private static async Task<int> PingUntilClosedAsync(ClientWebSocket socket, int pings)
    {
        for (var i = 0; i < pings; i++)
        {
            await SendAsync(socket, $$"""{"op":"ping","id":{{i}}}""");
        }

        var pongs = 0;
        var buffer = new byte[1024];
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while ((await socket.ReceiveAsync(buffer, limit.Token)).MessageType != WebSocketMessageType.Close)
        {
            pongs++;
        }

        return pongs;
    }

    private static void AssertError(JsonElement reply, string? id, string errorId, string? field)
    {
        Assert.Equal("error", reply.GetProperty("op").GetString());
        Assert.Equal(id, reply.TryGetProperty("id", out var given) ? given.GetString() : null);
        Assert.Equal(errorId, reply.GetProperty("errorId").GetString());
        Assert.Equal(field, reply.TryGetProperty("field", out var named) ? named.GetString() : null);
        Assert.False(string.IsNullOrEmpty(reply.GetProperty("message").GetString()));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var limit = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(limit.Elapsed < TimeSpan.FromSeconds(20), $"timed out waiting for: {what}");
            await Task.Yield();
        }
    }

    private static async Task<string> ReadHeadersAsync(NetworkStream stream, CancellationToken ct)
    {
        var headers = new StringBuilder();
        var one = new byte[1];
        while (!headers.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await stream.ReadAsync(one, ct));
            headers.Append((char)one[0]);
        }

        return headers.ToString();
    }

    private static async Task<int> ReadFrameOpcodeAsync(NetworkStream stream, CancellationToken ct)
    {
        var header = new byte[2];
        await stream.ReadExactlyAsync(header, ct);
        var length = header[1] & 0x7F;
        await stream.ReadExactlyAsync(new byte[length], ct); // a control frame's payload is at most 125 bytes
        return header[0] & 0x0F;
    }
}
