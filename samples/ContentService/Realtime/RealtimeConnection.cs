using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using ContentService.Errors;
using ContentService.Metrics;
using ContentService.Tasks;

namespace ContentService.Realtime;

/// <summary>A message from the server: a reply to the request with the same <c>id</c>, or an error naming its error ID.</summary>
internal sealed record RealtimeReply(string Op, JsonElement? Id, TaskResponse? Task = null, string? ErrorId = null, string? Message = null, string? Field = null, int? RetryAfterSeconds = null);

/// <summary>
/// One WebSocket connection: reads JSON requests (<c>ping</c>, <c>get_task</c>), answers each by its <c>id</c>, runs
/// requests concurrently up to the per-connection and instance caps (beyond them a request is refused at once with
/// ERR_CAPACITY_EXHAUSTED, never queued), and closes with a status and a reason naming the error ID whenever it
/// refuses the connection itself: too many messages (1008), a message too large (1009), binary data (1003), shutdown (1001).
/// </summary>
internal sealed partial class RealtimeConnection(
    WebSocket socket, HttpContext http, RealtimeLimits limits, RealtimeOptions options, string? keyId, string address, JsonSerializerOptions json, ILogger logger) : IDisposable
{
    // Long enough for a live client to answer our close frame, short enough that a dead one does not hold the slot.
    private static readonly TimeSpan CloseHandshakeLimit = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly ConcurrentDictionary<Task, bool> _running = new();
    private int _inFlight;
    private int _closing;

    public async Task RunAsync(CancellationToken stopping)
    {
        // Stopping sends a close frame while the read is pending; the client's answering close then ends the loop.
        using var onStop = stopping.Register(static state => _ = ((RealtimeConnection)state!).CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "server shutting down; reconnect to another instance"), this);
        using var closeLimit = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var buffer = new byte[options.MaxMessageBytes];
        try
        {
            while (true)
            {
                var (count, type, tooBig) = await ReceiveAsync(buffer, closeLimit.Token);
                if (type == WebSocketMessageType.Close)
                {
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
                    break;
                }

                if (Volatile.Read(ref _closing) == 1)
                {
                    // Our close frame is out: what arrives until the client's close is not read as requests.
                    continue;
                }

                if (tooBig)
                {
                    await CloseAsync(WebSocketCloseStatus.MessageTooBig, $"{ServiceErrorIds.PayloadTooLarge}: messages are at most {options.MaxMessageBytes} bytes");
                    closeLimit.CancelAfter(CloseHandshakeLimit);
                    continue;
                }

                if (type == WebSocketMessageType.Binary)
                {
                    await CloseAsync(WebSocketCloseStatus.InvalidMessageType, $"{ServiceErrorIds.UnsupportedMediaType}: text messages (JSON) only");
                    closeLimit.CancelAfter(CloseHandshakeLimit);
                    continue;
                }

                var (refused, wait) = limits.TryCountMessage(keyId, address);
                if (refused is not null)
                {
                    var limit = refused == "key" ? options.MessagesPerWindowPerKey : options.MessagesPerWindowPerAddress;
                    ApiErrorMetrics.Record(http, ServiceErrorIds.RateLimited, StatusCodes.Status429TooManyRequests);
                    await CloseAsync(WebSocketCloseStatus.PolicyViolation,
                        $"{ServiceErrorIds.RateLimited}: over {limit} messages per {options.Window.TotalSeconds:0.#} s for this {refused}; retry in {Seconds(wait)} s");
                    closeLimit.CancelAfter(CloseHandshakeLimit);
                    continue;
                }

                await HandleAsync(buffer.AsMemory(0, count));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The client went away, missed the pong deadline, or did not answer our close in time: nothing left to tell it.
            LogDropped(logger, address, e is WebSocketException ? "connection lost" : "no close answer in time");
        }
        finally
        {
            await Task.WhenAll(_running.Keys);
        }
    }

    public void Dispose() => _sending.Dispose();

    private async Task HandleAsync(ReadOnlyMemory<byte> message)
    {
        JsonElement? id = null;
        try
        {
            using var document = JsonDocument.Parse(message);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw ApiException.Validation("body", "A message is a JSON object with \"op\" and, to match the reply, \"id\".");
            }

            if (root.TryGetProperty("id", out var given))
            {
                id = given.ValueKind is JsonValueKind.String or JsonValueKind.Number && given.GetRawText().Length <= 64
                    ? given.Clone()
                    : throw ApiException.Validation("id", "id must be a string or a number (at most 64 characters).");
            }

            var op = root.TryGetProperty("op", out var named) && named.ValueKind == JsonValueKind.String ? named.GetString() : null;
            switch (op)
            {
                case "ping":
                    await SendAsync(new RealtimeReply("pong", id));
                    break;
                case "get_task":
                    var taskId = TaskRequestValidator.ParseId(root.TryGetProperty("taskId", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null, "taskId");
                    Start(id, taskId);
                    break;
                default:
                    throw ApiException.Validation("op", "op must be one of: ping, get_task.");
            }
        }
        catch (Exception e) when (e is ApiException or JsonException)
        {
            await SendErrorAsync(id, e is JsonException ? ApiException.Validation("body", "The message is not valid JSON.") : e);
        }
    }

    // A request runs beside the reading loop, within both caps; one over a cap is refused at once.
    private void Start(JsonElement? id, Guid taskId)
    {
        if (Interlocked.Increment(ref _inFlight) > options.MaxInFlightPerConnection)
        {
            Interlocked.Decrement(ref _inFlight);
            Refuse(id, $"This connection already has {options.MaxInFlightPerConnection} requests running; wait for an answer first.");
            return;
        }

        if (!limits.TryStartRequest())
        {
            Interlocked.Decrement(ref _inFlight);
            Refuse(id, $"The service already runs {options.MaxInFlight} WebSocket requests; try again shortly.");
            return;
        }

        var running = GetTaskAsync(id, taskId);
        _running.TryAdd(running, true);
        _ = running.ContinueWith(static (done, state) => ((ConcurrentDictionary<Task, bool>)state!).TryRemove(done, out _), _running, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Refuse(JsonElement? id, string message)
    {
        var refusal = new ApiException(StatusCodes.Status503ServiceUnavailable, ServiceErrorIds.CapacityExhausted, message) { RetryAfter = TimeSpan.FromSeconds(1) };
        var sending = SendErrorAsync(id, refusal);
        _running.TryAdd(sending, true);
        _ = sending.ContinueWith(static (done, state) => ((ConcurrentDictionary<Task, bool>)state!).TryRemove(done, out _), _running, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task GetTaskAsync(JsonElement? id, Guid taskId)
    {
        try
        {
            var tasks = http.RequestServices.GetRequiredService<TaskRepository>();
            var task = await tasks.GetAsync(taskId, http.RequestAborted) ?? throw ApiException.NotFound("Task");
            await SendAsync(new RealtimeReply("task", id, task));
        }
        catch (Exception e) when (!http.RequestAborted.IsCancellationRequested && e is not WebSocketException)
        {
            await SendErrorAsync(id, e);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // The connection ended first: nobody is left to answer.
        }
        finally
        {
            limits.EndRequest();
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task SendErrorAsync(JsonElement? id, Exception exception)
    {
        var (status, errorId, title, field, retryAfter) = ApiExceptionHandler.Map(exception, http);
        if (status >= 500 && exception is not ApiException)
        {
            LogRequestFailed(logger, exception, errorId);
        }

        ApiErrorMetrics.Record(http, errorId, status);
        await SendAsync(new RealtimeReply("error", id, ErrorId: errorId, Message: title, Field: field, RetryAfterSeconds: retryAfter is { } w ? Seconds(w) : null));
    }

    private async Task SendAsync(RealtimeReply reply)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(reply, json);
        await _sending.WaitAsync(http.RequestAborted);
        try
        {
            if (Volatile.Read(ref _closing) == 0 && socket.State == WebSocketState.Open)
            {
                await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, http.RequestAborted);
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Sends our close frame once, with a status and a reason (at most 123 bytes, as the protocol allows).</summary>
    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) == 1)
        {
            return;
        }

        try
        {
            await _sending.WaitAsync(http.RequestAborted);
            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(status, Truncate(reason), http.RequestAborted);
                }
            }
            finally
            {
                _sending.Release();
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Already gone: the close could not be delivered.
        }
    }

    private async Task<(int Count, WebSocketMessageType Type, bool TooBig)> ReceiveAsync(byte[] buffer, CancellationToken ct)
    {
        var count = 0;
        var tooBig = false;
        while (true)
        {
            var free = buffer.AsMemory(count == buffer.Length ? 0 : count);
            var result = await socket.ReceiveAsync(free, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (0, WebSocketMessageType.Close, false);
            }

            if (count + result.Count > buffer.Length || count == buffer.Length)
            {
                // Read to its end (so the stream stays in step) but never kept.
                tooBig = true;
                count = buffer.Length;
            }
            else
            {
                count += result.Count;
            }

            if (result.EndOfMessage)
            {
                return (count, result.MessageType, tooBig);
            }
        }
    }

    internal static string Truncate(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= 123)
        {
            return reason;
        }

        var cut = reason.Length;
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, cut)) > 120)
        {
            cut--;
        }

        return reason[..cut] + "...";
    }

    private static int Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));

    [LoggerMessage(EventId = 1900, Level = LogLevel.Information, Message = "WebSocket connection from {Address} ended without a close handshake ({Reason})")]
    private static partial void LogDropped(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 1901, Level = LogLevel.Error, Message = "WebSocket request failed: {ErrorId}")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, string errorId);
}
