namespace Resilience.Cluster;

/// <summary>Where the instances of a cluster share breaker votes, transitions, probe leases and quota (e.g. <c>PostgresClusterStore</c>).</summary>
/// <remarks>
/// Only a <see cref="ClusterCoordinator"/> talks to a store, from its background loop: no call of a pipeline ever waits on
/// it. An operation that fails or times out makes the coordinator fall back to local state until the store answers again.
/// The members are internal: the stores ship with the adapters (<c>Resilience.Npgsql</c>).
/// </remarks>
public abstract class ClusterStore : IAsyncDisposable
{
    private protected ClusterStore()
    {
    }

    /// <summary>Prepares the store (schema, listener) and starts reporting remote changes to <paramref name="changed"/>.</summary>
    internal abstract ValueTask StartAsync(Action changed, CancellationToken cancellationToken);

    /// <summary>Marks <paramref name="instance"/> alive for <paramref name="ttl"/>.</summary>
    /// <returns>How many instances are alive, this one included.</returns>
    internal abstract ValueTask<int> HeartbeatAsync(string instance, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Removes <paramref name="instance"/>: its heartbeat and votes go at once (a clean shutdown).</summary>
    internal abstract ValueTask LeaveAsync(string instance, CancellationToken cancellationToken);

    /// <summary>Records that <paramref name="instance"/> saw <paramref name="breaker"/> fail; the vote lapses after <paramref name="ttl"/>.</summary>
    internal abstract ValueTask VoteAsync(string breaker, string instance, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Reads the shared state of <paramref name="breakers"/>, with the live votes each has, in one query.</summary>
    internal abstract ValueTask<ClusterBreakerRecord[]> ReadBreakersAsync(string[] breakers, CancellationToken cancellationToken);

    /// <summary>Opens <paramref name="breaker"/> for the cluster unless another instance did since <paramref name="epoch"/>, and tells the others.</summary>
    /// <returns>The new opening's epoch, or 0 when it was opened (or closed) by another instance meanwhile.</returns>
    internal abstract ValueTask<long> TryOpenAsync(string breaker, long epoch, TimeSpan breakDuration, CancellationToken cancellationToken);

    /// <summary>Takes the one probe of opening <paramref name="epoch"/> for <paramref name="instance"/>, unless another live holder has it.</summary>
    internal abstract ValueTask<bool> TryLeaseProbeAsync(string breaker, long epoch, string instance, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Publishes the cluster probe's result: closed (votes cleared), or opened again for <paramref name="nextBreak"/>.</summary>
    /// <returns>The epoch after the result (a new one when re-opened), or 0 when the opening had moved on already.</returns>
    internal abstract ValueTask<long> PublishProbeResultAsync(string breaker, long epoch, bool succeeded, TimeSpan nextBreak, CancellationToken cancellationToken);

    /// <summary>Leases up to <paramref name="want"/> permits of the current window of <paramref name="limiter"/> for <paramref name="instance"/> (one round trip).</summary>
    /// <remarks>The instance reports the permits it holds unused (<paramref name="unused"/>): when its heartbeat lapses (a crash),
    /// those go back to the cluster, so a crashed instance's slices expire within the lease time rather than at the window's end.</remarks>
    internal abstract ValueTask<QuotaLease> LeaseQuotaAsync(string limiter, long limit, TimeSpan window, string instance, long unused, long want, CancellationToken cancellationToken);

    /// <summary>Gives back <paramref name="unused"/> permits of window <paramref name="window"/> leased by <paramref name="instance"/> (a clean shutdown).</summary>
    internal abstract ValueTask ReturnQuotaAsync(string limiter, long window, string instance, long unused, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="depositUnits"/> to the shared retry budget <paramref name="budget"/> (capped at <paramref name="maxUnits"/>;
    /// it starts full) and takes up to <paramref name="wantUnits"/> from it (one statement).</summary>
    /// <returns>The units taken.</returns>
    internal abstract ValueTask<long> LeaseBudgetAsync(string budget, long maxUnits, long depositUnits, long wantUnits, CancellationToken cancellationToken);

    /// <summary>Gets the round trips the store made so far (every statement, the listener's LISTEN included), for the coordination metrics.</summary>
    internal abstract long Queries { get; }

    /// <summary>Gets the notifications received so far.</summary>
    internal abstract long Notifications { get; }

    /// <summary>Releases the store's connections.</summary>
    /// <returns>A task that completes when released.</returns>
    public abstract ValueTask DisposeAsync();
}

/// <summary>A breaker's shared state as read from the store.</summary>
/// <param name="Name">The breaker.</param>
/// <param name="Epoch">Counts the cluster's openings (0: never opened).</param>
/// <param name="IsOpen">Whether the cluster holds it open.</param>
/// <param name="BreakLeft">The break left of the opening (zero or less when it has ended).</param>
/// <param name="Break">The opening's break duration.</param>
/// <param name="Votes">Live instances whose failure votes are within their window.</param>
/// <param name="Live">Live instances.</param>
internal readonly record struct ClusterBreakerRecord(string Name, long Epoch, bool IsOpen, TimeSpan BreakLeft, TimeSpan Break, int Votes, int Live);

/// <summary>A slice of a cluster-wide window.</summary>
/// <param name="Window">The window's number (the store's clock divided by the window).</param>
/// <param name="Granted">Permits granted now (0 when the window is spent).</param>
/// <param name="WindowLeft">The time left in the window.</param>
internal readonly record struct QuotaLease(long Window, long Granted, TimeSpan WindowLeft);
