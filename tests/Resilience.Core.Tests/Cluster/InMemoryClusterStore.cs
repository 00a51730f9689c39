using Resilience.Cluster;

namespace Resilience.Core.Tests.Cluster;

/// <summary>The state a PostgreSQL store keeps, in memory, on a fake clock: what the quorum logic is tested against.</summary>
internal sealed class InMemoryCluster(TimeProvider time)
{
    public readonly Dictionary<string, DateTimeOffset> Instances = [];
    public readonly Dictionary<(string Breaker, string Instance), DateTimeOffset> Votes = [];
    public readonly Dictionary<string, (long Epoch, bool Open, DateTimeOffset OpenUntil, TimeSpan Break, string? Holder, long ProbeEpoch, DateTimeOffset ProbeUntil)> Breakers = [];

    public readonly Dictionary<string, long> Budgets = [];
    public readonly Dictionary<(string Name, long Window, string Instance), (long Taken, long Unused)> Quota = [];

    public DateTimeOffset Now => time.GetUtcNow();

    public int Live => Instances.Values.Count(e => e > Now);
}

/// <summary>One instance's connection to an <see cref="InMemoryCluster"/>; <see cref="Down"/> makes every operation fail as an unreachable database does.</summary>
internal sealed class InMemoryClusterStore(InMemoryCluster cluster) : ClusterStore
{
    private long _queries;

    public bool Down { get; set; }

    internal override long Queries => _queries;

    internal override long Notifications => 0;

    internal override ValueTask StartAsync(Action changed, CancellationToken cancellationToken) => Query(0);

    internal override ValueTask<int> HeartbeatAsync(string instance, TimeSpan ttl, CancellationToken cancellationToken)
    {
        Check();
        cluster.Instances[instance] = cluster.Now + ttl;
        return ValueTask.FromResult(cluster.Live);
    }

    internal override ValueTask LeaveAsync(string instance, CancellationToken cancellationToken)
    {
        Check();
        cluster.Instances.Remove(instance);
        foreach (var key in cluster.Votes.Keys.Where(k => k.Instance == instance).ToList())
        {
            cluster.Votes.Remove(key);
        }

        return ValueTask.CompletedTask;
    }

    internal override ValueTask VoteAsync(string breaker, string instance, TimeSpan ttl, CancellationToken cancellationToken)
    {
        Check();
        cluster.Votes[(breaker, instance)] = cluster.Now + ttl;
        return ValueTask.CompletedTask;
    }

    internal override ValueTask<ClusterBreakerRecord[]> ReadBreakersAsync(string[] breakers, CancellationToken cancellationToken)
    {
        Check();
        var now = cluster.Now;
        return ValueTask.FromResult(breakers.Select(name =>
        {
            var votes = cluster.Votes.Count(v => v.Key.Breaker == name && v.Value > now
                && cluster.Instances.TryGetValue(v.Key.Instance, out var alive) && alive > now);
            return cluster.Breakers.TryGetValue(name, out var b)
                ? new ClusterBreakerRecord(name, b.Epoch, b.Open, b.Open ? b.OpenUntil - now : TimeSpan.Zero, b.Break, votes, cluster.Live)
                : new ClusterBreakerRecord(name, 0, false, TimeSpan.Zero, TimeSpan.Zero, votes, cluster.Live);
        }).ToArray());
    }

    internal override ValueTask<long> TryOpenAsync(string breaker, long epoch, TimeSpan breakDuration, CancellationToken cancellationToken)
    {
        Check();
        cluster.Breakers.TryGetValue(breaker, out var b);
        if (b.Open || b.Epoch != epoch)
        {
            return ValueTask.FromResult(0L);
        }

        cluster.Breakers[breaker] = (epoch + 1, true, cluster.Now + breakDuration, breakDuration, null, b.ProbeEpoch, b.ProbeUntil);
        return ValueTask.FromResult(epoch + 1);
    }

    internal override ValueTask<bool> TryLeaseProbeAsync(string breaker, long epoch, string instance, TimeSpan ttl, CancellationToken cancellationToken)
    {
        Check();
        if (!cluster.Breakers.TryGetValue(breaker, out var b) || !b.Open || b.Epoch != epoch
            || !(b.ProbeEpoch < epoch || b.ProbeUntil < cluster.Now || b.Holder == instance))
        {
            return ValueTask.FromResult(false);
        }

        cluster.Breakers[breaker] = b with { Holder = instance, ProbeEpoch = epoch, ProbeUntil = cluster.Now + ttl };
        return ValueTask.FromResult(true);
    }

    internal override ValueTask<long> PublishProbeResultAsync(string breaker, long epoch, bool succeeded, TimeSpan nextBreak, CancellationToken cancellationToken)
    {
        Check();
        if (!cluster.Breakers.TryGetValue(breaker, out var b) || !b.Open || b.Epoch != epoch)
        {
            return ValueTask.FromResult(0L);
        }

        if (succeeded)
        {
            cluster.Breakers[breaker] = b with { Open = false, Holder = null };
            foreach (var key in cluster.Votes.Keys.Where(k => k.Breaker == breaker).ToList())
            {
                cluster.Votes.Remove(key);
            }

            return ValueTask.FromResult(epoch);
        }

        cluster.Breakers[breaker] = b with { Epoch = epoch + 1, OpenUntil = cluster.Now + nextBreak, Break = nextBreak, Holder = null };
        return ValueTask.FromResult(epoch + 1);
    }

    internal override ValueTask<QuotaLease> LeaseQuotaAsync(string limiter, long limit, TimeSpan window, string instance, long unused, long want, CancellationToken cancellationToken)
    {
        Check();
        // As the PostgreSQL statement: a live instance's leases count whole, a dead one's only what it had used.
        var ms = cluster.Now.ToUnixTimeMilliseconds();
        var length = (long)window.TotalMilliseconds;
        var number = ms / length;
        long counted = 0;
        foreach (var (key, lease) in cluster.Quota)
        {
            if (key.Name == limiter && key.Window == number)
            {
                var live = key.Instance == instance || (cluster.Instances.TryGetValue(key.Instance, out var expires) && expires > cluster.Now);
                counted += live ? lease.Taken : lease.Taken - lease.Unused;
            }
        }

        var granted = Math.Max(0, Math.Min(want, limit - counted));
        var mine = (limiter, number, instance);
        cluster.Quota[mine] = cluster.Quota.TryGetValue(mine, out var old) ? (old.Taken + granted, Math.Min(old.Taken, unused) + granted) : (granted, granted);
        return ValueTask.FromResult(new QuotaLease(number, granted, TimeSpan.FromMilliseconds(length - (ms % length))));
    }

    internal override ValueTask ReturnQuotaAsync(string limiter, long window, string instance, long unused, CancellationToken cancellationToken)
    {
        Check();
        if (cluster.Quota.TryGetValue((limiter, window, instance), out var lease))
        {
            cluster.Quota[(limiter, window, instance)] = (Math.Max(0, lease.Taken - unused), 0);
        }

        return ValueTask.CompletedTask;
    }

    internal override ValueTask<long> LeaseBudgetAsync(string budget, long maxUnits, long depositUnits, long wantUnits, CancellationToken cancellationToken)
    {
        Check();
        var units = Math.Min(maxUnits, (cluster.Budgets.TryGetValue(budget, out var held) ? held : maxUnits) + depositUnits);
        var granted = Math.Min(wantUnits, units);
        cluster.Budgets[budget] = units - granted;
        return ValueTask.FromResult(granted);
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private ValueTask Query(int _)
    {
        Check();
        return ValueTask.CompletedTask;
    }

    private void Check()
    {
        if (Down)
        {
            throw new InvalidOperationException("The store is down (test).");
        }

        _queries++;
    }
}
