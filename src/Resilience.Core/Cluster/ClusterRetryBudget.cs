using Resilience.Retry;

namespace Resilience.Cluster;

/// <summary>
/// A retry budget whose bucket is the cluster's: the coordinator's loop publishes this instance's deposits and leases
/// tokens ahead in slices (one statement per slice), so a retry never waits on the store. Without the store, the budget
/// runs on its own bucket as an unshared one does.
/// </summary>
internal sealed class ClusterRetryBudget
{
    private readonly ClusterCoordinator _coordinator;
    private long _pendingDeposits;
    private long _lowWatermark;
    private int _wanted;
    private volatile bool _shared;

    public ClusterRetryBudget(ClusterCoordinator coordinator, RetryBudget budget, string name)
    {
        _coordinator = coordinator;
        Budget = budget;
        Name = name;
        _lowWatermark = RetryBudget.UnitsPerToken;
    }

    public RetryBudget Budget { get; }

    public string Name { get; }

    /// <summary>Gets whether the budget draws on the cluster's bucket (joined and the store answering).</summary>
    public bool IsShared => _shared;

    /// <summary>Counts a success's deposit for the next round (calls only).</summary>
    public void Deposit(long units) => Interlocked.Add(ref _pendingDeposits, units);

    /// <summary>Called after each withdrawal (or refusal) with the units left: a low bucket asks the next round for a slice, and brings it forward.</summary>
    public void Withdrew(long unitsLeft)
    {
        if (_shared && unitsLeft < Volatile.Read(ref _lowWatermark) && Volatile.Read(ref _wanted) == 0)
        {
            Volatile.Write(ref _wanted, 1);
            _coordinator.Wake();
        }
    }

    /// <summary>Publishes the deposits and tops the tokens up from the cluster when they run low (the loop only).</summary>
    public async ValueTask SyncAsync(ClusterStore store, int live, CancellationToken cancellationToken)
    {
        // A slice is a quarter of this instance's share of the bucket, in whole tokens (a retry takes a whole one).
        var share = Budget.MaxUnits / (Math.Max(1, live) * 4);
        var slice = Math.Max(1, (share + RetryBudget.UnitsPerToken - 1) / RetryBudget.UnitsPerToken) * RetryBudget.UnitsPerToken;
        var low = Math.Max(RetryBudget.UnitsPerToken, slice / 2);
        Volatile.Write(ref _lowWatermark, low);
        if (!_shared)
        {
            // Joining (or back from local state): the tokens gathered alone were the local budget's; the lease replaces them.
            var granted = await store.LeaseBudgetAsync(Name, Budget.MaxUnits, 0, slice, cancellationToken).ConfigureAwait(false);
            Budget.ExchangeUnits(granted);
            Interlocked.Exchange(ref _pendingDeposits, 0);
            _shared = true;
            return;
        }

        // A slice only for retries that ran low since the last round (an idle instance with an empty bucket asks nothing),
        // and deposits once they add up to a slice: at most one query a round, whatever the call rate.
        var needed = Interlocked.Exchange(ref _wanted, 0) == 1 && Budget.Units < low;
        if (!needed && Volatile.Read(ref _pendingDeposits) < slice)
        {
            return;
        }

        var deposits = Interlocked.Exchange(ref _pendingDeposits, 0);
        var lease = await store.LeaseBudgetAsync(Name, Budget.MaxUnits, deposits, needed ? slice : 0, cancellationToken).ConfigureAwait(false);
        Budget.AddUnits(lease);
    }

    /// <summary>Without the store: the budget fills and drains its own bucket (the loop only).</summary>
    public void RunLocally() => _shared = false;

    /// <summary>Gives the tokens held and the deposits not yet published back to the cluster's bucket (a clean shutdown).</summary>
    public async ValueTask ReturnUnusedAsync(ClusterStore store, CancellationToken cancellationToken)
    {
        if (!_shared)
        {
            return;
        }

        _shared = false;
        var unused = Budget.ExchangeUnits(0) + Interlocked.Exchange(ref _pendingDeposits, 0);
        if (unused > 0)
        {
            await store.LeaseBudgetAsync(Name, Budget.MaxUnits, unused, 0, cancellationToken).ConfigureAwait(false);
        }
    }
}
