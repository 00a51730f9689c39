using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>
/// A loopback TCP relay in front of PostgreSQL that counts the connections clients open, so a test can report how many
/// connection attempts a database that is down receives. While the server is down the relay accepts and closes at once,
/// so the client still sees a failed connect.
/// </summary>
internal sealed class CountingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private int _connections;

    public CountingProxy(string connectionString)
    {
        var upstream = new NpgsqlConnectionStringBuilder(connectionString);
        _upstreamHost = upstream.Host!;
        _upstreamPort = upstream.Port;
        _listener.Start();
        ConnectionString = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Host = "127.0.0.1",
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port,
        }.ConnectionString;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>Gets the connection string that goes through the relay.</summary>
    public string ConnectionString { get; }

    /// <summary>Gets how many connections clients opened so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

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
            Interlocked.Increment(ref _connections);
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
                client.Client.LingerState = new LingerOption(true, 0); // a reset, as close to "refused" as a relay gets
                return;
            }

            var upstream = client.GetStream().CopyToAsync(server.GetStream(), _stop.Token);
            var downstream = server.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(upstream, downstream);
            client.Client.Close();
            server.Client.Close();
            try
            {
                await Task.WhenAll(upstream, downstream);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // One side closed; nothing left to relay.
            }
        }
    }
}
