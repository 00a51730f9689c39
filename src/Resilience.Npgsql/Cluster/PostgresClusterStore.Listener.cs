using Npgsql;

namespace Resilience.Npgsql.Cluster;

/// <content>The listening connection: <c>LISTEN resilience_cluster</c>, and each notification wakes the coordinator's loop.</content>
public sealed partial class PostgresClusterStore
{
    private async Task EnsureListeningAsync(CancellationToken cancellationToken)
    {
        if (_listening is { IsCompleted: false })
        {
            return;
        }

        await StopListeningAsync().ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            connection.Notification += OnNotification;
            using (var command = new NpgsqlCommand(PostgresClusterSql.Listen, connection))
            {
                Interlocked.Increment(ref _queries);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var stop = new CancellationTokenSource();
        lock (_listenerLock)
        {
            _listener = connection;
            _listenStop = stop;
            _listening = Task.Run(() => ListenAsync(connection, stop.Token), CancellationToken.None);
        }
    }

    private static async Task ListenAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or NpgsqlException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped, or the connection broke: the next heartbeat finds the task completed and opens a new listener.
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        Interlocked.Increment(ref _notifications);
        _changed?.Invoke();
    }

    private async Task StopListeningAsync()
    {
        NpgsqlConnection? connection;
        Task? listening;
        CancellationTokenSource? stop;
        lock (_listenerLock)
        {
            (connection, listening, stop) = (_listener, _listening, _listenStop);
            (_listener, _listening, _listenStop) = (null, null, null);
        }

        if (stop is not null)
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }

        if (listening is not null)
        {
            await listening.ConfigureAwait(false);
        }

        stop?.Dispose();
        if (connection is not null)
        {
            connection.Notification -= OnNotification;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
