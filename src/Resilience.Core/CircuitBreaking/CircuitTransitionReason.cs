namespace Resilience.CircuitBreaking;

/// <summary>Why a circuit changed state.</summary>
public enum CircuitTransitionReason
{
    /// <summary>The consecutive-failure threshold was reached.</summary>
    ConsecutiveFailures = 0,

    /// <summary>The failure ratio over the sampling window was reached with enough throughput.</summary>
    FailureRatio = 1,

    /// <summary>The break duration elapsed and a call arrived to probe the dependency.</summary>
    BreakElapsed = 2,

    /// <summary>A half-open probe failed (or was slow), so the circuit opened again.</summary>
    ProbeFailed = 3,

    /// <summary>Every permitted half-open probe succeeded, so the circuit closed.</summary>
    ProbesSucceeded = 4,

    /// <summary><see cref="CircuitBreaker.Isolate"/> was called.</summary>
    Isolated = 5,

    /// <summary><see cref="CircuitBreaker.Reset"/> was called.</summary>
    Reset = 6,

    /// <summary>The cluster decided (a cluster-wide breaker): a quorum of instances opened it, or the cluster's one probe closed or re-opened it.</summary>
    Cluster = 7,
}
