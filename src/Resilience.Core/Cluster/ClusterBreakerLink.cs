using Resilience.CircuitBreaking;

namespace Resilience.Cluster;

/// <summary>
/// What a cluster-wide breaker and its coordinator share: the breaker writes what it saw (an opening on its own counts, the
/// cluster probe's result) on its transitions, the coordinator's loop reads it and publishes; nothing here touches the store.
/// </summary>
internal sealed class ClusterBreakerLink
{
    private const int OutcomeNone = 0;
    private const int OutcomeSucceeded = 1;
    private const int OutcomeFailed = 2;

    private readonly ClusterCoordinator _coordinator;
    private int _pendingVote;
    private int _failureSeen;
    private int _earlyVoteAt;
    private int _outcome;
    private long _outcomeEpoch;
    private TimeSpan _outcomeBreak;

    // The cluster opening the local breaker follows (0: none), and the one whose probe this instance holds.
    private long _followed;
    private long _probeEpoch;

    public ClusterBreakerLink(ClusterCoordinator coordinator, CircuitBreaker breaker)
    {
        _coordinator = coordinator;
        Breaker = breaker;
    }

    public CircuitBreaker Breaker { get; }

    /// <summary>Gets or sets the last cluster opening applied to the local breaker (loop only).</summary>
    public long Applied { get; set; }

    public long Followed
    {
        get => Volatile.Read(ref _followed);
        set => Volatile.Write(ref _followed, value);
    }

    public long ProbeEpoch
    {
        get => Volatile.Read(ref _probeEpoch);
        set => Volatile.Write(ref _probeEpoch, value);
    }

    /// <summary>Gets whether the local breaker may turn half-open: its opening is its own, this instance holds the cluster's
    /// probe, or the store is out of reach (local state rules then).</summary>
    public bool MayProbe
    {
        get
        {
            var followed = Followed;
            return followed == 0 || ProbeEpoch == followed || !_coordinator.IsConnected;
        }
    }

    /// <summary>Gets how long a breaker that may not probe waits before it asks again.</summary>
    public TimeSpan ProbeWait => _coordinator.Options.SyncInterval;

    /// <summary>Called by the breaker after each of its transitions (outside its lock); records, and wakes the loop.</summary>
    public void OnTransition(in CircuitStateChange change)
    {
        if (change.Reason == CircuitTransitionReason.Cluster)
        {
            return;
        }

        if (change.To == CircuitState.Open && change.Reason is CircuitTransitionReason.ConsecutiveFailures or CircuitTransitionReason.FailureRatio)
        {
            Volatile.Write(ref _pendingVote, 1);
            _coordinator.Wake();
            return;
        }

        var followed = Followed;
        if (followed == 0 || ProbeEpoch != followed || change.From != CircuitState.HalfOpen)
        {
            return;
        }

        if (change.Reason == CircuitTransitionReason.ProbesSucceeded || change.Reason == CircuitTransitionReason.ProbeFailed)
        {
            lock (this)
            {
                _outcomeEpoch = followed;
                _outcomeBreak = change.BreakDuration;
                _outcome = change.To == CircuitState.Closed ? OutcomeSucceeded : OutcomeFailed;
            }

            // A lease is good for one probe: until the result is published and the next opening leased, this instance
            // must not probe again, however long the loop takes (its own break may end first).
            ProbeEpoch = 0;

            _coordinator.Wake();
        }
    }

    /// <summary>Gets or sets whether this instance's vote stands for a failing streak rather than an opening (loop only).</summary>
    public bool EarlyVote { get; set; }

    /// <summary>Gets or sets the streak at which this instance votes before its breaker opens (set by the loop each round; 0: no early vote).</summary>
    public int EarlyVoteAt
    {
        get => Volatile.Read(ref _earlyVoteAt);
        set => Volatile.Write(ref _earlyVoteAt, value);
    }

    /// <summary>Called by the breaker on a failure short of its threshold: a streak reaching <see cref="EarlyVoteAt"/> brings a round forward (never waits).</summary>
    public void FailureSeen(int streak)
    {
        var at = EarlyVoteAt;
        if (at > 0 && streak >= at && Interlocked.Exchange(ref _failureSeen, 1) == 0)
        {
            _coordinator.Wake();
        }
    }

    /// <summary>Gets the breaker's current streak of failures while closed, for the loop (clears the wake flag).</summary>
    public int TakeStreak()
    {
        Interlocked.Exchange(ref _failureSeen, 0);
        return Breaker.ClosedStreak;
    }

    /// <summary>Takes the vote to publish, if the breaker opened on its own counts since the last round.</summary>
    public bool TakeVote() => Interlocked.Exchange(ref _pendingVote, 0) == 1;

    /// <summary>Takes the cluster probe's result to publish, if there is one.</summary>
    public bool TakeProbeOutcome(out long epoch, out bool succeeded, out TimeSpan nextBreak)
    {
        lock (this)
        {
            epoch = _outcomeEpoch;
            succeeded = _outcome == OutcomeSucceeded;
            nextBreak = _outcomeBreak;
            var any = _outcome != OutcomeNone;
            _outcome = OutcomeNone;
            return any;
        }
    }
}
