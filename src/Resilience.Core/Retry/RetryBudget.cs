using Resilience.Cluster;

namespace Resilience.Retry;

/// <summary>
/// A token bucket that caps the extra load retries put on one dependency: successes deposit a fraction of a token,
/// each retry withdraws one, and a small per-second floor lets a quiet dependency still retry.
/// </summary>
/// <remarks>
/// <para>
/// Share one budget across every call (and strategy) to the same dependency. When the bucket is empty and the floor
/// for the current second is used up, the failure surfaces without a retry and the rejection is counted.
/// </para>
/// <para>Lock-free: the tokens are a fixed-point <see cref="long"/> (millionths of a token) updated with compare-and-swap.</para>
/// <para>Shared with <see cref="ClusterCoordinator.ShareRetryBudget(RetryBudget, string)"/>, the bucket is the cluster's: this instance
/// withdraws from tokens leased ahead and its deposits go to the shared bucket; the per-second floor stays this instance's.</para>
/// </remarks>
public sealed class RetryBudget
{
    /// <summary>Fixed-point scale: one token is a million units, so deposits like 0.1 add up exactly.</summary>
    internal const long UnitsPerToken = 1_000_000;

    private readonly long _maxUnits;
    private readonly long _depositUnits;
    private readonly int _minRetriesPerSecond;
    private readonly TimeProvider _timeProvider;
    private readonly long _origin;
    private long _units;

    // High 32 bits: the second (since _origin) the floor counts in; low 32 bits: floor retries used in that second.
    private long _floorWindow;
    private long _rejections;

    /// <summary>Initializes a new instance of the <see cref="RetryBudget"/> class, with a full bucket.</summary>
    /// <param name="options">The bucket's size, deposit and floor; validated here.</param>
    /// <param name="timeProvider">The clock for the per-second floor; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public RetryBudget(RetryBudgetOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        RetryBudgetOptionsValidator.ThrowIfInvalid(options);
        _maxUnits = ToUnits(options.MaxTokens);
        _depositUnits = Math.Max(1, ToUnits(options.DepositPerSuccess));
        _minRetriesPerSecond = options.MinRetriesPerSecond;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _origin = _timeProvider.GetTimestamp();
        _units = _maxUnits;
    }

    /// <summary>Gets or sets the cluster's share of this budget (set once, by <see cref="ClusterCoordinator.ShareRetryBudget(RetryBudget, string)"/>).</summary>
    internal ClusterRetryBudget? Cluster { get; set; }

    /// <summary>Gets the bucket's cap, in units.</summary>
    internal long MaxUnits => _maxUnits;

    /// <summary>Gets the tokens held here, in units (leased from the cluster when shared).</summary>
    internal long Units => Volatile.Read(ref _units);

    /// <summary>Gets the tokens currently in the bucket.</summary>
    public double AvailableTokens => Volatile.Read(ref _units) / (double)UnitsPerToken;

    /// <summary>Gets how many retries the budget has refused.</summary>
    public long Rejections => Volatile.Read(ref _rejections);

    /// <summary>Records a successful call: deposits <see cref="RetryBudgetOptions.DepositPerSuccess"/>, up to the cap.</summary>
    public void RecordSuccess()
    {
        if (Cluster is { IsShared: true } cluster)
        {
            // The deposit fills the cluster's bucket at the next round; a call never waits on it.
            cluster.Deposit(_depositUnits);
            return;
        }

        long current = Volatile.Read(ref _units);
        while (current < _maxUnits)
        {
            long next = Math.Min(_maxUnits, current + _depositUnits);
            long seen = Interlocked.CompareExchange(ref _units, next, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Takes one token for a retry, or one of this second's floor retries when the bucket is empty.</summary>
    /// <returns><see langword="true"/> when the retry may go ahead; otherwise the refusal is counted.</returns>
    public bool TryWithdraw()
    {
        long current = Volatile.Read(ref _units);
        while (current >= UnitsPerToken)
        {
            long seen = Interlocked.CompareExchange(ref _units, current - UnitsPerToken, current);
            if (seen == current)
            {
                Cluster?.Withdrew(current - UnitsPerToken);
                return true;
            }

            current = seen;
        }

        Cluster?.Withdrew(0);
        if (TryTakeFloor())
        {
            return true;
        }

        Interlocked.Increment(ref _rejections);
        return false;
    }

    /// <summary>Replaces the tokens held here (the coordinator's loop: a lease taken on joining, or all given back).</summary>
    internal long ExchangeUnits(long units) => Interlocked.Exchange(ref _units, units);

    /// <summary>Adds leased tokens (the coordinator's loop).</summary>
    internal void AddUnits(long units) => Interlocked.Add(ref _units, units);

    private bool TryTakeFloor()
    {
        if (_minRetriesPerSecond == 0)
        {
            return false;
        }

        long second = _timeProvider.GetElapsedTime(_origin).Ticks / TimeSpan.TicksPerSecond;
        long current = Volatile.Read(ref _floorWindow);
        while (true)
        {
            long windowSecond = current >>> 32;
            long used = current & 0xFFFF_FFFF;
            long next;
            // Only a later second opens a new window: a caller that read the clock before the window moved on
            // counts against the newer window, so it can never rewind the floor and open a second twice.
            if (windowSecond < second)
            {
                next = (second << 32) | 1;
            }
            else if (used < _minRetriesPerSecond)
            {
                next = current + 1;
            }
            else
            {
                return false;
            }

            long seen = Interlocked.CompareExchange(ref _floorWindow, next, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    private static long ToUnits(double tokens) => (long)Math.Round(tokens * UnitsPerToken, MidpointRounding.AwayFromZero);
}
