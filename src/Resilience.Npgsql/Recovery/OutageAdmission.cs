using System.Globalization;
using Resilience.CircuitBreaking;
using Resilience.Failures;

namespace Resilience.Npgsql;

/// <summary>
/// Counts a data source's calls in flight and, while its circuit is not closed, refuses a new call once
/// <see cref="NpgsqlResilienceOptions.MaxWaitingCalls"/> are in flight: they are all waiting for the database to come back,
/// and more would only pile up. Each call that finds the circuit open also starts the <see cref="ReturnProbe"/>.
/// </summary>
/// <remarks>Two interlocked operations and one volatile read per call; nothing is allocated unless a call is refused.</remarks>
internal sealed class OutageAdmission
{
    private readonly CircuitBreaker _breaker;
    private readonly int _limit;
    private readonly ReturnProbe _returnProbe;
    private readonly TimeProvider _timeProvider;
    private int _inFlight;

    public OutageAdmission(CircuitBreaker breaker, int limit, ReturnProbe returnProbe, TimeProvider timeProvider)
    {
        _breaker = breaker;
        _limit = limit;
        _returnProbe = returnProbe;
        _timeProvider = timeProvider;
    }

    /// <summary>Gets the calls in flight now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets the limit of calls in flight while the circuit is not closed.</summary>
    public int Limit => _limit;

    public ReturnProbe ReturnProbe => _returnProbe;

    /// <summary>Admits a call (then <see cref="Exit"/> must follow) or throws the refusal.</summary>
    /// <exception cref="DatabaseException">The circuit is not closed and <see cref="Limit"/> calls are waiting already.</exception>
    public void Enter()
    {
        var inFlight = Interlocked.Increment(ref _inFlight);
        if (_breaker.State == CircuitState.Closed)
        {
            return;
        }

        _returnProbe.Start();

        // An isolated circuit refuses every call at once: nobody waits.
        if (inFlight > _limit && _breaker.State != CircuitState.Isolated)
        {
            Interlocked.Decrement(ref _inFlight);
            throw Refusal(inFlight - 1);
        }
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    private DatabaseException Refusal(int waiting)
    {
        var snapshot = _breaker.GetSnapshot();

        // When the next probe is due (at once if its break has ended); a circuit probing now: one break from now, by when it has answered.
        var retryAfter = snapshot.NextProbeAt is { } next ? next - _timeProvider.GetUtcNow() : snapshot.BreakDuration;
        if (retryAfter < TimeSpan.Zero)
        {
            retryAfter = TimeSpan.Zero;
        }

        var broken = new BrokenCircuitException(_breaker.Name, snapshot.State, retryAfter);
        var message = string.Create(
            CultureInfo.InvariantCulture,
            $"The database is unavailable: its circuit breaker is {(snapshot.State == CircuitState.HalfOpen ? "probing" : "open")} and {waiting} calls already wait for it (the limit); try again in {Math.Ceiling(retryAfter.TotalSeconds)} s.");
        return new DatabaseException(message, FailureKind.Unavailable, ErrorIds.DatabaseUnavailable, sqlState: null, failedBeforeSend: true, broken)
        {
            RetryAfter = retryAfter,
        };
    }
}
