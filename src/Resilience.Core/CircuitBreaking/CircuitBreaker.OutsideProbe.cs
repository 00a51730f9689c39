namespace Resilience.CircuitBreaking;

/// <content>Closing an open or half-open circuit on a probe made outside the breaker, for an adapter that watches its dependency come back.</content>
public sealed partial class CircuitBreaker
{
    /// <summary>
    /// Closes an open or half-open circuit because a probe made outside the breaker reached the dependency (e.g. <c>Resilience.Npgsql</c>'s
    /// watch saw the server refuse connections, then answer a round trip): the break need not be waited out, nor one call's probe.
    /// </summary>
    /// <returns><see langword="true"/> when an open or half-open circuit was closed (a probe call still in flight then reports to
    /// an earlier period, and is ignored); <see langword="false"/> when closed already or isolated (held by hand).</returns>
    internal bool CloseOnOutsideProbe()
    {
        CircuitStateChange change;
        lock (_lock)
        {
            if (_state is not (StateOpen or StateHalfOpen))
            {
                return false;
            }

            change = CloseLocked(CircuitTransitionReason.ProbesSucceeded);
        }

        Raise(in change);
        return true;
    }
}
