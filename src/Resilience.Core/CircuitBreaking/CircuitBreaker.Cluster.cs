using Resilience.Cluster;

namespace Resilience.CircuitBreaking;

/// <content>
/// The hooks of a cluster-wide breaker (<see cref="ClusterCoordinator.Share"/>): transitions are reported to the link, a
/// cluster opening or closing is applied here, and an open circuit turns half-open only when this instance may probe.
/// All of it is off the closed path: a breaker not shared has a <see langword="null"/> link and pays nothing.
/// </content>
public sealed partial class CircuitBreaker
{
    private ClusterBreakerLink? _cluster;

    /// <summary>Gets or sets the link to the cluster (set once, by the coordinator).</summary>
    internal ClusterBreakerLink? Cluster
    {
        get => Volatile.Read(ref _cluster);
        set => Volatile.Write(ref _cluster, value);
    }

    /// <summary>Gets the consecutive failures counted while closed (0 in the failure-ratio mode, whose openings are voted on only).</summary>
    internal int ClosedStreak => _ring is null && _state == StateClosed ? Volatile.Read(ref _consecutiveFailures) : 0;

    /// <summary>Opens the circuit because the cluster did (a quorum, or the cluster's probe failed elsewhere), for <paramref name="breakLeft"/>.</summary>
    internal void OpenFromCluster(TimeSpan breakLeft, TimeSpan breakDuration)
    {
        CircuitStateChange change;
        lock (_lock)
        {
            if (_state == StateIsolated)
            {
                return;
            }

            change = OpenLocked((CircuitState)_state, CircuitTransitionReason.Cluster, null, breakLeft);
            _currentBreak = breakDuration;
        }

        Raise(in change);
    }

    /// <summary>Closes an open or half-open circuit because the cluster's probe succeeded on another instance.</summary>
    internal void CloseFromCluster()
    {
        CircuitStateChange change;
        lock (_lock)
        {
            if (_state is not (StateOpen or StateHalfOpen))
            {
                return;
            }

            change = CloseLocked(CircuitTransitionReason.Cluster);
        }

        Raise(in change);
    }

    /// <summary>With the break over but another instance probing for the cluster: stays open and looks again after <paramref name="wait"/>.</summary>
    private void DeferProbeLocked(long now, TimeSpan wait)
    {
        Volatile.Write(ref _breakUntil, now + ToTimestampTicks(wait));
        Volatile.Write(ref _elapsedGeneration, -1);
        StartBreakTimerLocked(wait);
    }
}
