using System.Threading.RateLimiting;
using ContentService.Security;
using Resilience.Cluster;

namespace ContentService.Cluster;

/// <summary>
/// One client's cluster-wide allowance: the coordinator's limiter, plus what the API's 429 needs — a Retry-After of the
/// time left in the window, and a small credit for the moment a window starts before this instance's first slice arrives.
/// </summary>
/// <remarks>
/// The coordinator's limiter refuses until its loop has leased a slice of the window (within a round): a client's first
/// call, or the first call after the window turned, would be refused although the cluster has every permit left. Until
/// the first permit of a window arrives here, up to <c>limit / (live × 16)</c> calls are admitted on credit — 1/16 of
/// the limit across the cluster at most, inside the 10 % the cluster-wide limit is allowed.
/// </remarks>
internal sealed class ClusterKeyLimiter : RateLimiter
{
    private const long SliceDelay = 2_000;
    private static readonly RateLimitLease Credited = new RetryAfterLease(true, null);
    private static readonly RateLimitLease SliceOnItsWay = new RetryAfterLease(false, TimeSpan.FromSeconds(1));

    private readonly RateLimiter _shared;
    private readonly ClusterCoordinator _coordinator;
    private readonly TimeProvider _time;
    private readonly long _windowMs;
    private readonly Lock _gate = new();
    private long _grantedWindow = -1;
    private long _creditWindow = -1;
    private int _creditUsed;
    private long _credited;

    public ClusterKeyLimiter(string key, RateLimiter shared, int permitLimit, TimeSpan window, ClusterCoordinator coordinator, TimeProvider time)
    {
        Key = key;
        _shared = shared;
        PermitLimit = permitLimit;
        Window = window;
        _coordinator = coordinator;
        _time = time;
        _windowMs = (long)window.TotalMilliseconds;
    }

    public string Key { get; }

    public int PermitLimit { get; }

    public TimeSpan Window { get; }

    /// <summary>Calls admitted on credit so far.</summary>
    public long CreditedCalls => Interlocked.Read(ref _credited);

    /// <summary>Never idle: the coordinator keeps the limiter it made, so the partition keeps this one.</summary>
    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics() => _shared.GetStatistics();

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, PermitLimit);
        var lease = _shared.AttemptAcquire(permitCount);

        // The cluster's windows are aligned on the Unix epoch (the store's clock, the same machine's in the sample).
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var window = now / _windowMs;
        if (lease.IsAcquired)
        {
            Volatile.Write(ref _grantedWindow, window);
            return lease;
        }

        lease.Dispose();
        var intoWindow = now % _windowMs;
        var left = new RetryAfterLease(false, TimeSpan.FromMilliseconds(_windowMs - intoWindow));
        if (Volatile.Read(ref _grantedWindow) == window)
        {
            return left;
        }

        lock (_gate)
        {
            if (_creditWindow != window)
            {
                _creditWindow = window;
                _creditUsed = 0;
            }

            var credit = Math.Max(1, PermitLimit / (Math.Max(1, _coordinator.LiveInstances) * 16));
            if (_creditUsed + permitCount <= credit)
            {
                _creditUsed += permitCount;
                _credited += permitCount;
                return Credited;
            }
        }

        // No permit of this window here yet: early in the window its first slice is on its way (a round or two); later, the
        // other instances spent the window.
        return intoWindow < SliceDelay ? SliceOnItsWay : left;
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));
}
