using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>A loopback TCP listener in front of PostgreSQL: accepts clients and hands each to <see cref="RelayAsync"/>.</summary>
internal abstract class LoopbackRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _acceptLoop;

    protected LoopbackRelay(string connectionString, Action<NpgsqlConnectionStringBuilder>? adjust = null)
    {
        var upstream = new NpgsqlConnectionStringBuilder(connectionString);
        UpstreamHost = upstream.Host!;
        UpstreamPort = upstream.Port;
        _listener.Start();
        var relayed = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Host = "127.0.0.1",
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port,
        };
        adjust?.Invoke(relayed);
        ConnectionString = relayed.ConnectionString;
        _acceptLoop = AcceptAsync();
    }

    /// <summary>Gets the connection string that goes through the relay.</summary>
    public string ConnectionString { get; }

    protected string UpstreamHost { get; }

    protected int UpstreamPort { get; }

    protected CancellationTokenSource Stopping { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await Stopping.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopping the listener ends the loop with one of these.
        }

        Stopping.Dispose();
    }

    /// <summary>Waits until either pump ends, then closes both sides and lets the other pump end quietly.</summary>
    /// <returns>A task that completes when both pumps are done.</returns>
    protected static async Task CloseWhenEitherEndsAsync(TcpClient client, TcpClient server, Task upstream, Task downstream)
    {
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

    /// <summary>Serves one accepted client until either side closes.</summary>
    /// <returns>A task that completes when the client is done.</returns>
    protected abstract Task RelayAsync(TcpClient client);

    private async Task AcceptAsync()
    {
        while (!Stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(Stopping.Token);
            _ = Task.Run(() => RelayAsync(client));
        }
    }
}
