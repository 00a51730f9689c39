using System.Net.Sockets;
using Npgsql;
using Resilience.Npgsql.Tests.Faults;

namespace Resilience.Npgsql.Tests.Infrastructure;

/// <summary>
/// A loopback TCP relay in front of PostgreSQL that counts round trips: each time the client starts sending after the
/// server last spoke (a client waits for its reply before it sends the next request, so one count is one network wait).
/// </summary>
internal sealed class RoundTripProxy(string connectionString)
    : LoopbackRelay(connectionString, static relayed => relayed.MaxPoolSize = 1)
{
    private readonly Lock _lock = new();
    private bool _clientSpeaking;
    private int _roundTrips;

    /// <summary>Gets the round trips since the last <see cref="Reset"/>.</summary>
    public int RoundTrips
    {
        get
        {
            lock (_lock)
            {
                return _roundTrips;
            }
        }
    }

    /// <summary>Starts counting again from zero.</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _roundTrips = 0;
        }
    }

    protected override async Task RelayAsync(TcpClient client)
    {
        using var server = new TcpClient();
        using (client)
        {
            await server.ConnectAsync(UpstreamHost, UpstreamPort, Stopping.Token);
            var upstream = PumpAsync(client.GetStream(), server.GetStream(), fromClient: true);
            var downstream = PumpAsync(server.GetStream(), client.GetStream(), fromClient: false);
            await CloseWhenEitherEndsAsync(client, server, upstream, downstream);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool fromClient)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReadAsync(buffer, Stopping.Token);
            if (read == 0)
            {
                return;
            }

            lock (_lock)
            {
                if (fromClient && !_clientSpeaking)
                {
                    _roundTrips++;
                }

                _clientSpeaking = fromClient;
            }

            await to.WriteAsync(buffer.AsMemory(0, read), Stopping.Token);
        }
    }
}
