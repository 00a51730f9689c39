using System.Net.Sockets;
using System.Text;
using Npgsql;
using Resilience.Npgsql.Tests.Faults;

namespace Resilience.Npgsql.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of PostgreSQL that, when armed, lets one client message containing a marker reach the
/// server, swallows the server's reply to it and closes both connections: the "lost acknowledgement".
/// </summary>
/// <remarks>
/// Arm it with <see cref="Commit"/> and the server commits the transaction while the client only sees the connection
/// drop. Connections are plain text (the proxied connection string disables TLS) so the marker can be seen.
/// </remarks>
internal sealed class LostReplyProxy(string connectionString)
    : LoopbackRelay(connectionString, static relayed => relayed.SslMode = SslMode.Disable)
{
    private byte[]? _armedMarker;
    private int _lostReplies;

    /// <summary>The text of the simple-query message Npgsql sends to commit (with its terminator, so <c>READ COMMITTED</c> does not match).</summary>
    public const string Commit = "COMMIT\0";

    /// <summary>Gets how many replies were swallowed so far.</summary>
    public int LostReplies => Volatile.Read(ref _lostReplies);

    /// <summary>Swallows the reply to the next client message containing <paramref name="marker"/> (once), then drops that connection.</summary>
    public void LoseNextReplyTo(string marker) => Volatile.Write(ref _armedMarker, Encoding.UTF8.GetBytes(marker));

    protected override async Task RelayAsync(TcpClient client)
    {
        using var server = new TcpClient();
        using (client)
        {
            try
            {
                await server.ConnectAsync(UpstreamHost, UpstreamPort, Stopping.Token);
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
            var read = await from.ReadAsync(buffer, Stopping.Token);
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

            await to.WriteAsync(buffer.AsMemory(0, read), Stopping.Token);
        }
    }

    private async Task PumpServerToClientAsync(Session session)
    {
        var buffer = new byte[16 * 1024];
        var from = session.Server.GetStream();
        var to = session.Client.GetStream();
        while (true)
        {
            var read = await from.ReadAsync(buffer, Stopping.Token);
            if (read == 0)
            {
                return;
            }

            if (session.DropNextReply)
            {
                Interlocked.Increment(ref _lostReplies);
                return; // Swallowed: the caller closes both sides.
            }

            await to.WriteAsync(buffer.AsMemory(0, read), Stopping.Token);
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
