namespace Resilience.CircuitBreaking;

/// <content>Closing an open circuit on a probe made outside the breaker, for an adapter that watches its dependency come back.</content>
public sealed partial class CircuitBreaker
{
    /// <summary>
    /// Closes an open circuit because a probe made outside the breaker reached the dependency (e.g. <c>Resilience.Npgsql</c>'s
    /// watch saw the server refuse connections, then answer a round trip): the break need not be waited out, nor one call's probe.
    /// </summary>
    /// <returns><see langword="true"/> when an open circuit was closed; <see langword="false"/> in any other state (a half-open
    /// circuit's own probe decides; an isolated one stays held).</returns>
    internal bool CloseOnOutsideProbe()
    {
        CircuitStateChange change;
        lock (_lock)
        {
            if (_state != StateOpen)
            {
                return false;
            }

            change = CloseLocked(CircuitTransitionReason.ProbesSucceeded);
        }

        Raise(in change);
        return true;
    }
}
