using System.Diagnostics.CodeAnalysis;
using System.Threading.RateLimiting;

namespace Resilience.Cluster;

/// <summary>
/// A fixed-window limit shared by the cluster: calls take permits from slices leased ahead by the coordinator's loop (one
/// <c>UPDATE … RETURNING</c> per slice), so a call never waits on the store. Without the store, a local share of the limit.
/// Each lease reports the permits held unused, which the cluster takes back when this instance's heartbeat lapses.
/// </summary>
internal sealed class ClusterRateLimiter : RateLimiter
{
    private static readonly RateLimitLease Granted = new Lease(true);
    private static readonly RateLimitLease Refused = new Lease(false);

    private readonly ClusterCoordinator _coordinator;
    private readonly TimeProvider _time;
    private readonly long _windowTicks;
    private long _tokens;
    private long _windowEnd;
    private long _window = -1;
    private long _spent = -1;
    private long _lowWatermark;
    private long _granted;
    private long _refused;
    private volatile bool _local;
    private long _idleSince;
    private int _lastLive;

    public ClusterRateLimiter(ClusterCoordinator coordinator, string name, int permitLimit, TimeSpan window, TimeProvider time)
    {
        _coordinator = coordinator;
        Name = name;
        PermitLimit = permitLimit;
        Window = window;
        _time = time;
        _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
        _idleSince = time.GetTimestamp();
    }

    public string Name { get; }

    public int PermitLimit { get; }

    public TimeSpan Window { get; }

    public override TimeSpan? IdleDuration => _time.GetElapsedTime(Volatile.Read(ref _idleSince));

    public override RateLimiterStatistics? GetStatistics() => new()
    {
        CurrentAvailablePermits = Math.Max(0, Volatile.Read(ref _tokens)),
        TotalSuccessfulLeases = Volatile.Read(ref _granted),
        TotalFailedLeases = Volatile.Read(ref _refused),
    };

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(permitCount);
        var now = _time.GetTimestamp();
        Volatile.Write(ref _idleSince, now);
        if (now >= Volatile.Read(ref _windowEnd))
        {
            // The slices of the window lapsed: the loop leases the next window's first slice now.
            _coordinator.Wake();
            return Refuse();
        }

        if (permitCount == 0)
        {
            return Volatile.Read(ref _tokens) > 0 ? Granted : Refuse();
        }

        var left = Interlocked.Add(ref _tokens, -permitCount);
        if (left < 0)
        {
            Interlocked.Add(ref _tokens, permitCount);
            _coordinator.Wake();
            return Refuse();
        }

        // At the watermark, not below it: with a slice of one permit the watermark is 0, and only taking the last permit
        // can ask for the next before a call is refused for the lack of it.
        if (left <= Volatile.Read(ref _lowWatermark))
        {
            _coordinator.Wake();
        }

        Interlocked.Increment(ref _granted);
        return Granted;
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    /// <summary>Tops the local permits up from the cluster when they run low or the window turned (the loop only).</summary>
    public async ValueTask SyncAsync(ClusterStore store, int live, CancellationToken cancellationToken)
    {
        var slice = Math.Max(1, PermitLimit / (Math.Max(1, live) * 8));
        Volatile.Write(ref _lowWatermark, slice / 2);
        var now = _time.GetTimestamp();
        if (live < _lastLive)
        {
            // An instance left or died: its unused permits are back in the window, so a spent window is worth asking again.
            _spent = -1;
        }

        _lastLive = live;
        if (_local)
        {
            // Back from local state: the local share of this window was spent on the side; start again from the cluster's count.
            _local = false;
            Volatile.Write(ref _tokens, 0);
            Volatile.Write(ref _windowEnd, 0);
            _window = -1;
        }

        if (now < Volatile.Read(ref _windowEnd) && (Volatile.Read(ref _tokens) > slice / 2 || _spent == _window))
        {
            // Enough permits, or the cluster has none left in this window: no query until the window turns.
            return;
        }

        // The permits still held in the window being topped up: what goes back to the cluster if this instance crashes.
        var unused = now < Volatile.Read(ref _windowEnd) ? Math.Max(0, Volatile.Read(ref _tokens)) : 0;
        var lease = await store.LeaseQuotaAsync(Name, PermitLimit, Window, _coordinator.InstanceId, unused, slice, cancellationToken).ConfigureAwait(false);
        var end = _time.GetTimestamp() + (long)(lease.WindowLeft.TotalSeconds * _time.TimestampFrequency);
        if (lease.Window != _window)
        {
            // A new window: whatever was left of the last one lapsed with it.
            _window = lease.Window;
            Volatile.Write(ref _tokens, lease.Granted);
            Volatile.Write(ref _windowEnd, end);
        }
        else
        {
            Interlocked.Add(ref _tokens, lease.Granted);
        }

        if (lease.Granted < slice)
        {
            _spent = lease.Window;
        }
    }

    /// <summary>Without the store: admits the local share of the limit per window (the loop only).</summary>
    public void RunLocally(int live)
    {
        var now = _time.GetTimestamp();
        // Permits leased from the cluster stay valid until their window ends; then a local window at a time.
        _local = true;
        if (now >= Volatile.Read(ref _windowEnd))
        {
            Volatile.Write(ref _tokens, Math.Max(1, PermitLimit / Math.Max(1, live)));
            Volatile.Write(ref _windowEnd, now + _windowTicks);
        }
    }

    /// <summary>Gives the unused permits of the current window back to the cluster (a clean shutdown).</summary>
    public async ValueTask ReturnUnusedAsync(ClusterStore store, CancellationToken cancellationToken)
    {
        var unused = Interlocked.Exchange(ref _tokens, 0);
        if (!_local && _window >= 0 && unused > 0 && _time.GetTimestamp() < Volatile.Read(ref _windowEnd))
        {
            await store.ReturnQuotaAsync(Name, _window, _coordinator.InstanceId, unused, cancellationToken).ConfigureAwait(false);
        }
    }

    private RateLimitLease Refuse()
    {
        Interlocked.Increment(ref _refused);
        return Refused;
    }

    private sealed class Lease(bool acquired) : RateLimitLease
    {
        public override bool IsAcquired { get; } = acquired;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, [NotNullWhen(true)] out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
