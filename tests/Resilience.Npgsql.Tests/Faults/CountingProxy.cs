using System.Net.Sockets;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>
/// A loopback TCP relay in front of PostgreSQL that counts the connections clients open, so a test can report how many
/// connection attempts a database that is down receives. While the server is down the relay accepts and closes at once,
/// so the client still sees a failed connect.
/// </summary>
internal sealed class CountingProxy(string connectionString) : LoopbackRelay(connectionString)
{
    private int _connections;

    /// <summary>Gets how many connections clients opened so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    protected override async Task RelayAsync(TcpClient client)
    {
        Interlocked.Increment(ref _connections);
        using var server = new TcpClient();
        using (client)
        {
            try
            {
                await server.ConnectAsync(UpstreamHost, UpstreamPort, Stopping.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                client.Client.LingerState = new LingerOption(true, 0); // a reset, as close to "refused" as a relay gets
                return;
            }

            var upstream = client.GetStream().CopyToAsync(server.GetStream(), Stopping.Token);
            var downstream = server.GetStream().CopyToAsync(client.GetStream(), Stopping.Token);
            await CloseWhenEitherEndsAsync(client, server, upstream, downstream);
        }
    }
}
