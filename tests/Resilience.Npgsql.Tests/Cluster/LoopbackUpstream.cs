using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>A provider on loopback (HTTP/1.1, keep-alive) that answers 200 when healthy and 503 when dead, and counts the requests that reach it.</summary>
internal sealed class LoopbackUpstream : IAsyncDisposable
{
    private static readonly byte[] Ok = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    private static readonly byte[] Dead = Encoding.ASCII.GetBytes("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndead");
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private long _requests;
    private volatile bool _healthy;

    private LoopbackUpstream(bool healthy)
    {
        Healthy = healthy;
        _listener.Start();
        Uri = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/generate");
        _accepting = AcceptAsync();
    }

    public Uri Uri { get; }

    public bool Healthy
    {
        get => _healthy;
        set => _healthy = value;
    }

    public long Requests => Interlocked.Read(ref _requests);

    public static LoopbackUpstream Start(bool healthy) => new(healthy);

    /// <summary>A loopback address nothing listens on: connections are refused (the provider unreachable from there).</summary>
    public static Uri Unreachable()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new Uri($"http://127.0.0.1:{port}/generate");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await Task.WhenAll([_accepting, .. Snapshot()]).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private Task[] Snapshot()
    {
        lock (_connections)
        {
            return [.. _connections];
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            lock (_connections)
            {
                _connections.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var buffer = new byte[4096];
            var filled = 0;
            while (!_stop.IsCancellationRequested)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(filled), _stop.Token);
                if (read == 0)
                {
                    return;
                }

                filled += read;
                // Requests carry no body: each header block ending in a blank line is one request.
                int end;
                while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) >= 0)
                {
                    Interlocked.Increment(ref _requests);
                    await stream.WriteAsync(Healthy ? Ok : Dead, _stop.Token);
                    buffer.AsSpan(end + 4, filled - end - 4).CopyTo(buffer);
                    filled -= end + 4;
                }
            }
        }
    }
}
