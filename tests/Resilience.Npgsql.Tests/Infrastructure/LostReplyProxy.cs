using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Resilience.Npgsql.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of PostgreSQL that, when armed, lets one client message containing a marker reach the
/// server, swallows the server's reply to it and closes both connections: the "lost acknowledgement".
/// </summary>
/// <remarks>
/// Arm it with <see cref="Commit"/> and the server commits the transaction while the client only sees the connection
/// drop. Connections are plain text (the proxied connection string disables TLS) so the marker can be seen.
/// </remarks>
internal sealed class LostReplyProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private byte[]? _armedMarker;
    private int _lostReplies;

    public LostReplyProxy(string connectionString)
    {
        var upstream = new NpgsqlConnectionStringBuilder(connectionString);
        _upstreamHost = upstream.Host!;
        _upstreamPort = upstream.Port;
        _listener.Start();
        var proxied = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Host = "127.0.0.1",
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port,
            SslMode = SslMode.Disable,
        };
        ConnectionString = proxied.ConnectionString;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>The text of the simple-query message Npgsql sends to commit (with its terminator, so <c>READ COMMITTED</c> does not match).</summary>
    public const string Commit = "COMMIT\0";

    /// <summary>Gets the connection string that goes through the proxy.</summary>
    public string ConnectionString { get; }

    /// <summary>Gets how many replies were swallowed so far.</summary>
    public int LostReplies => Volatile.Read(ref _lostReplies);

    /// <summary>Swallows the reply to the next client message containing <paramref name="marker"/> (once), then drops that connection.</summary>
    public void LoseNextReplyTo(string marker) => Volatile.Write(ref _armedMarker, Encoding.UTF8.GetBytes(marker));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopping the listener ends the loop with one of these.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => RelayAsync(client));
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var server = new TcpClient();
        using (client)
        {
            try
            {
                await server.ConnectAsync(_upstreamHost, _upstreamPort, _stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                return; // The client sees the connection close, like a refused connection.
            }

            var session = new Session(client, server);
            var upstream = PumpClientToServerAsync(session);
            var downstream = PumpServerToClientAsync(session);
            await Task.WhenAny(upstream, downstream);
            session.Close();
            await Task.WhenAll(Quietly(upstream), Quietly(downstream));
        }
    }

    private async Task PumpClientToServerAsync(Session session)
    {
        var buffer = new byte[16 * 1024];
        var from = session.Client.GetStream();
        var to = session.Server.GetStream();
        while (true)
        {
            var read = await from.ReadAsync(buffer, _stop.Token);
            if (read == 0)
            {
                return;
            }

            // Decide before forwarding, so the server's reply cannot overtake the decision.
            var marker = Volatile.Read(ref _armedMarker);
            if (marker is not null && buffer.AsSpan(0, read).IndexOf(marker) >= 0
                && Interlocked.CompareExchange(ref _armedMarker, null, marker) == marker)
            {
                session.DropNextReply = true;
            }

            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    private async Task PumpServerToClientAsync(Session session)
    {
        var buffer = new byte[16 * 1024];
        var from = session.Server.GetStream();
        var to = session.Client.GetStream();
        while (true)
        {
            var read = await from.ReadAsync(buffer, _stop.Token);
            if (read == 0)
            {
                return;
            }

            if (session.DropNextReply)
            {
                Interlocked.Increment(ref _lostReplies);
                return; // Swallowed: the caller closes both sides.
            }

            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    private static async Task Quietly(Task pump)
    {
        try
        {
            await pump;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The other side closed; nothing to relay any more.
        }
    }

    private sealed class Session(TcpClient client, TcpClient server)
    {
        private volatile bool _dropNextReply;

        public TcpClient Client { get; } = client;

        public TcpClient Server { get; } = server;

        public bool DropNextReply
        {
            get => _dropNextReply;
            set => _dropNextReply = value;
        }

        public void Close()
        {
            Client.Client.Close();
            Server.Client.Close();
        }
    }
}
