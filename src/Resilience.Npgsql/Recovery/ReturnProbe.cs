using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Failures;

namespace Resilience.Npgsql;

/// <summary>
/// While a young outage holds the database's circuit open, asks the server for a round trip every interval and closes the
/// circuit as soon as it answers again, so calls go through at once instead of waiting out the break and then one call's probe.
/// </summary>
/// <remarks>
/// <para>It acts only on an outage it has seen itself: a round trip must first fail because the server refused or dropped the
/// connection (down, restarting, out of connections). A circuit opened while the server was reachable (slow calls, a full
/// disk) keeps its break, and no answer in time (a busy pool, a hung network) proves nothing either way. Having seen the
/// server down, it clears the pool once, so neither its own round trips nor the probe after the return take a connection
/// the restart killed.</para>
/// <para>Its round trip is the probe: it runs on the data source's own connections, as a call would (the breaker reports the
/// closing as probes succeeded), and it may close a half-open circuit whose probe call is still in flight. It stops when the
/// circuit closes, when the break has grown beyond <c>youngBreakLimit</c> (the outage is no longer short: the breaker's own
/// probes take over, and calls fail fast), or once it has closed the circuit. One runs at a time; the next call that finds
/// the circuit not closed starts another.</para>
/// </remarks>
internal sealed class ReturnProbe
{
    /// <summary>How long one round trip may take: an unreachable host or a busy pool must not hold the watch for the pool's 15 s.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(1);

    private readonly NpgsqlDataSource _dataSource;
    private readonly CircuitBreaker _breaker;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _youngBreakLimit;
    private readonly TimeProvider _timeProvider;
    private int _running;
    private Task _watch = Task.CompletedTask;

    public ReturnProbe(NpgsqlDataSource dataSource, CircuitBreaker breaker, TimeSpan interval, TimeSpan youngBreakLimit, TimeProvider timeProvider)
    {
        _dataSource = dataSource;
        _breaker = breaker;
        _interval = interval;
        _youngBreakLimit = youngBreakLimit;
        _timeProvider = timeProvider;
    }

    /// <summary>Gets how many times it closed the circuit (for tests and the report).</summary>
    public int CircuitsClosed { get; private set; }

    /// <summary>Gets the latest watch, or a completed task (for tests: it completes when the watch ends).</summary>
    public Task Watch => Volatile.Read(ref _watch);

    /// <summary>Starts watching unless a watch runs already or the probe is off; returns at once.</summary>
    public void Start()
    {
        if (_interval <= TimeSpan.Zero || Volatile.Read(ref _running) != 0 || Interlocked.Exchange(ref _running, 1) != 0)
        {
            return;
        }

        // Off the caller's thread: a synchronous caller must not run the first connection attempt.
        Volatile.Write(ref _watch, Task.Run(WatchAsync));
    }

    private async Task WatchAsync()
    {
        var seenDown = false;
        try
        {
            while (true)
            {
                var snapshot = _breaker.GetSnapshot();
                if (snapshot.State is CircuitState.Closed or CircuitState.Isolated || snapshot.BreakDuration > _youngBreakLimit)
                {
                    return;
                }

                // Open or half-open alike: a call probing may be slow to answer (a loaded machine), while this round trip is quick.
                var answer = await AskServerAsync().ConfigureAwait(false);
                if (answer == Answer.Up)
                {
                    if (seenDown && _breaker.CloseOnOutsideProbe())
                    {
                        CircuitsClosed++;
                    }

                    // Reachable all along (the circuit opened for another reason), or back: either way the watch is over.
                    return;
                }

                if (answer == Answer.Down && !seenDown)
                {
                    seenDown = true;

                    // The server went away: the pool's idle connections are dead or soon will be; new ones are made on return.
                    _dataSource.Clear();
                }

                await Task.Delay(_interval, _timeProvider).ConfigureAwait(false);
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>
    /// Runs <c>SELECT 1</c> on a connection of the data source (its settings, its loaded types; after the pool was cleared, a
    /// new physical connection or one made since the return): down only when the server refused or dropped it, unknown when
    /// no answer came in time (a busy pool, a hung network), so only a server seen away and back closes the circuit.
    /// </summary>
    private async Task<Answer> AskServerAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(AttemptTimeout, _timeProvider);
            var connection = await _dataSource.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var command = new NpgsqlCommand("SELECT 1", connection);
                await using (command.ConfigureAwait(false))
                {
                    await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
                }
            }

            return Answer.Up;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The answer this watch is waiting for, not a fault of its own: the calls report their own failures.
            return !PostgresFailureClassifier.IsPoolExhausted(ex) && PostgresFailureClassifier.Classify(ex) is FailureKind.Unavailable or FailureKind.Transient
                ? Answer.Down
                : Answer.Unknown;
        }
    }

    private enum Answer
    {
        Unknown,
        Down,
        Up,
    }
}
