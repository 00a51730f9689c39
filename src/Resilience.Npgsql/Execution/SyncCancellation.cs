using System.Data;
using Npgsql;

namespace Resilience.Npgsql;

/// <summary>
/// Stops the statement of a synchronous call when the call's token fires. Npgsql's synchronous I/O watches no token, so
/// without this a timeout or the caller's cancellation would wait for the statement to end by itself; with it, the server
/// is asked to cancel the statement (Npgsql's <c>Cancel</c>), as the token of an asynchronous call does.
/// </summary>
/// <remarks>
/// Created only when the token fires. It cancels off the token's thread (a cancel request opens a connection of its own,
/// and the token may be fired by a shared timer), and again every few milliseconds until the attempt's connection is
/// closed: a statement that starts after the token fired (just before the first, or between two) is cancelled too.
/// <c>Cancel</c> of a command that is not running does nothing, so neither our COMMIT nor the connection's next user is touched.
/// </remarks>
internal sealed class SyncCancellation
{
    private static readonly TimeSpan Recheck = TimeSpan.FromMilliseconds(10);

    private readonly NpgsqlCommand? _command;
    private readonly NpgsqlBatch? _batch;
    private readonly ITimer _timer;

    private SyncCancellation(NpgsqlCommand? command, NpgsqlBatch? batch)
    {
        _command = command;
        _batch = batch;
        _timer = TimeProvider.System.CreateTimer(static s => ((SyncCancellation)s!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(TimeSpan.Zero, Recheck);
    }

    /// <summary>Cancels <paramref name="command"/> whenever it runs after <paramref name="cancellationToken"/> fired; dispose the registration when the command is done.</summary>
    public static CancellationTokenRegistration Register(NpgsqlCommand command, CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static c => _ = new SyncCancellation((NpgsqlCommand)c!, null), command)
            : default;

    /// <summary>Cancels <paramref name="batch"/> whenever it runs after <paramref name="cancellationToken"/> fired.</summary>
    public static CancellationTokenRegistration Register(NpgsqlBatch batch, CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static b => _ = new SyncCancellation(null, (NpgsqlBatch)b!), batch)
            : default;

    private void Tick()
    {
        try
        {
            var connection = _command is not null ? _command.Connection : _batch!.Connection;
            if (connection is null || connection.FullState == ConnectionState.Closed)
            {
                _timer.Dispose();
                return;
            }

            if (_command is not null)
            {
                _command.Cancel();
            }
            else
            {
                _batch!.Cancel();
            }
        }
        // NullReferenceException too: Npgsql's Cancel reads the command's connector unlocked, and a connection closing on the
        // caller's thread meanwhile makes it throw that (seen in 2 of 6 test runs); on a timer's thread it would end the process.
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or ObjectDisposedException or NullReferenceException)
        {
            // The connection broke or closed meanwhile: nothing is left running to cancel.
            _timer.Dispose();
        }
    }
}
