using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Resilience.Http.Testing;

/// <summary>
/// A real Kestrel server on 127.0.0.1 (random port) whose answer to each request is scripted, and which records every
/// request it receives. Depends on ASP.NET Core only (no test framework), so the benchmarks can link this file.
/// </summary>
/// <remarks>
/// A request is answered by, in order: the next response scripted for its path (<see cref="Script"/>), the next response
/// of the shared queue (<see cref="Enqueue"/>), or <see cref="Default"/>. Nothing waits on time: a hang lasts until its
/// <see cref="HangGate"/> is released or the client aborts the request.
/// </remarks>
public sealed class FaultServer : IAsyncDisposable
{
    private readonly object _sync = new();
    private readonly Queue<FaultResponse> _queue = new();
    private readonly Dictionary<string, Queue<FaultResponse>> _byPath = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private WebApplication? _app;

    private FaultServer()
    {
    }

    /// <summary>Gets the server's base address, e.g. <c>http://127.0.0.1:54321/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Gets or sets the answer when nothing is scripted: 200 with body <c>ok</c> unless changed.</summary>
    public FaultResponse Default { get; set; } = FaultResponse.Ok("ok");

    /// <summary>Gets how many requests have arrived (recorded before they are answered).</summary>
    public int RequestCount
    {
        get
        {
            lock (_sync)
            {
                return _requests.Count;
            }
        }
    }

    /// <summary>Gets a copy of the requests received so far, in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_sync)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Starts a server on 127.0.0.1 with a port chosen by the OS.</summary>
    public static async Task<FaultServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = new FaultServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        server._app = app;
        return server;
    }

    /// <summary>Returns the absolute URI of <paramref name="pathAndQuery"/> on this server.</summary>
    public Uri Url(string pathAndQuery) => new(BaseAddress, pathAndQuery.TrimStart('/'));

    /// <summary>Adds answers to the shared queue, used by requests to any path without a script of their own.</summary>
    public void Enqueue(params FaultResponse[] responses)
    {
        lock (_sync)
        {
            foreach (var response in responses)
            {
                _queue.Enqueue(response);
            }
        }
    }

    /// <summary>Adds answers for requests to <paramref name="path"/> (e.g. <c>/items</c>), used before the shared queue.</summary>
    public void Script(string path, params FaultResponse[] responses)
    {
        lock (_sync)
        {
            if (!_byPath.TryGetValue(path, out var queue))
            {
                _byPath[path] = queue = new Queue<FaultResponse>();
            }

            foreach (var response in responses)
            {
                queue.Enqueue(response);
            }
        }
    }

    /// <summary>Returns the requests received for <paramref name="path"/>.</summary>
    public IReadOnlyList<RecordedRequest> RequestsTo(string path)
    {
        lock (_sync)
        {
            return _requests.Where(r => string.Equals(r.Path, path, StringComparison.OrdinalIgnoreCase)).ToList();
        }
    }

    /// <summary>Completes when at least <paramref name="count"/> requests have arrived.</summary>
    public Task WaitForRequestsAsync(int count)
    {
        lock (_sync)
        {
            if (_requests.Count >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task;
        }
    }

    /// <summary>Forgets the recorded requests and every scripted answer.</summary>
    public void Reset()
    {
        lock (_sync)
        {
            _requests.Clear();
            _queue.Clear();
            _byPath.Clear();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        byte[] body;
        using (var buffer = new MemoryStream())
        {
            try
            {
                await request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
            {
                // The client went away mid-body: record what arrived.
            }

            body = buffer.ToArray();
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers)
        {
            headers[header.Key] = header.Value.ToString();
        }

        FaultResponse response;
        List<TaskCompletionSource>? reached = null;
        lock (_sync)
        {
            var recorded = new RecordedRequest(_requests.Count, request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? string.Empty, headers, body);
            _requests.Add(recorded);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_requests.Count >= _waiters[i].Count)
                {
                    (reached ??= []).Add(_waiters[i].Signal);
                    _waiters.RemoveAt(i);
                }
            }

            response = _byPath.TryGetValue(recorded.Path, out var pathQueue) && pathQueue.Count > 0 ? pathQueue.Dequeue()
                : _queue.Count > 0 ? _queue.Dequeue()
                : Default;
        }

        if (reached is not null)
        {
            foreach (var signal in reached)
            {
                signal.TrySetResult();
            }
        }

        await response.WriteAsync(context).ConfigureAwait(false);
    }
}

/// <summary>One request as the server received it.</summary>
/// <param name="Index">Arrival order, from 0.</param>
/// <param name="Method">The method, e.g. <c>POST</c>.</param>
/// <param name="Path">The path, e.g. <c>/items</c>.</param>
/// <param name="Query">The query string including <c>?</c>, or empty.</param>
/// <param name="Headers">The request headers (multiple values joined with commas).</param>
/// <param name="Body">The body bytes as received.</param>
public sealed record RecordedRequest(int Index, string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    /// <summary>Returns the value of header <paramref name="name"/>, or <see langword="null"/>.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>A scripted answer of the <see cref="FaultServer"/>.</summary>
public sealed class FaultResponse
{
    private readonly Func<HttpContext, Task> _write;

    private FaultResponse(string description, Func<HttpContext, Task> write)
    {
        Description = description;
        _write = write;
    }

    /// <summary>Gets a short description, for test output.</summary>
    public string Description { get; }

    /// <summary>200 with a text body; <paramref name="chunked"/> sends it without a Content-Length.</summary>
    public static FaultResponse Ok(string body, string contentType = "text/plain; charset=utf-8", bool chunked = false) =>
        Status(200, body, contentType, chunked);

    /// <summary>A status with an optional text body and extra headers.</summary>
    public static FaultResponse Status(int status, string? body = null, string contentType = "text/plain; charset=utf-8", bool chunked = false, params (string Name, string Value)[] headers) =>
        new($"{status}", async context =>
        {
            var response = context.Response;
            response.StatusCode = status;
            foreach (var (name, value) in headers)
            {
                response.Headers.Append(name, value);
            }

            if (body is null)
            {
                return;
            }

            var bytes = Encoding.UTF8.GetBytes(body);
            response.ContentType = contentType;
            if (!chunked)
            {
                response.ContentLength = bytes.Length;
            }

            await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        });

    /// <summary>A status (429 or 503, usually) with <c>Retry-After</c> in delta-seconds.</summary>
    public static FaultResponse RetryAfterSeconds(int status, int seconds) =>
        Status(status, null, headers: ("Retry-After", seconds.ToString(CultureInfo.InvariantCulture)));

    /// <summary>A status with <c>Retry-After</c> as an HTTP-date.</summary>
    public static FaultResponse RetryAfterDate(int status, DateTimeOffset date) =>
        Status(status, null, headers: ("Retry-After", date.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>Holds the request open until <paramref name="gate"/> is released (then answers <paramref name="then"/>, 200 <c>released</c> by default) or the client aborts.</summary>
    public static FaultResponse Hang(HangGate gate, FaultResponse? then = null) =>
        new("hang", async context =>
        {
            gate.OnEntered();
            try
            {
                await gate.Released.WaitAsync(context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                gate.OnAborted();
                return;
            }

            await (then ?? Ok("released")).WriteAsync(context).ConfigureAwait(false);
        });

    /// <summary>Drops the connection without an answer (<see cref="HttpContext.Abort"/>); the client sees an <see cref="HttpRequestException"/>.</summary>
    public static FaultResponse Drop() => new("drop", static context =>
    {
        context.Abort();
        return Task.CompletedTask;
    });

    /// <inheritdoc />
    public override string ToString() => Description;

    internal Task WriteAsync(HttpContext context) => _write(context);
}

/// <summary>The signal that holds and releases hanging requests of a <see cref="FaultServer"/>.</summary>
public sealed class HangGate
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _entries;

    /// <summary>Gets a task that completes when the first request starts hanging on this gate.</summary>
    public Task Entered => _entered.Task;

    /// <summary>Gets a task that completes when a hanging request was aborted by its client.</summary>
    public Task Aborted => _aborted.Task;

    /// <summary>Gets how many requests have hung on this gate.</summary>
    public int Entries => Volatile.Read(ref _entries);

    internal Task Released => _released.Task;

    /// <summary>Lets every request hanging on this gate (and any later one) complete.</summary>
    public void Release() => _released.TrySetResult();

    internal void OnEntered()
    {
        Interlocked.Increment(ref _entries);
        _entered.TrySetResult();
    }

    internal void OnAborted() => _aborted.TrySetResult();
}
