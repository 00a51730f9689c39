using Microsoft.Extensions.Time.Testing;
using Resilience.Cluster;
using Resilience.Retry;

namespace Resilience.Core.Tests.Cluster;

/// <summary>A cluster-wide retry budget on an in-memory store and a fake clock, rounds run by hand.</summary>
public sealed class ClusterRetryBudgetTests : IAsyncDisposable
{
    private const int MaxTokens = 10;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly InMemoryCluster _cluster;
    private readonly List<Instance> _instances = [];

    public ClusterRetryBudgetTests() => _cluster = new InMemoryCluster(_time);

    [Fact]
    public async Task Share_ThreeInstancesRetrying_OneBucketForTheCluster()
    {
        await ThreeAsync();

        var retries = await DrainAsync(_instances);

        // Unshared, each instance's own bucket would allow 10: 30 retries against the dependency.
        Assert.Equal(MaxTokens, retries.Sum());
        Assert.All(retries, r => Assert.True(r > 0, string.Join(", ", retries)));
    }

    [Fact]
    public async Task Share_SuccessesOnOneInstance_FundRetriesOnAnother()
    {
        await ThreeAsync();
        await DrainAsync(_instances);
        var (a, b) = (_instances[0], _instances[1]);

        for (var i = 0; i < 100; i++)
        {
            a.Budget.RecordSuccess(); // 100 × 0.1: the cluster's bucket is full again
        }

        Assert.Equal(0, a.Budget.Units);
        await a.RoundAsync();
        var retries = await DrainAsync([b]);

        Assert.Equal(MaxTokens, retries[0]);
    }

    [Fact]
    public async Task Share_RetriesWithdrawLocally_OneQueryPerSliceNotPerRetry()
    {
        await ThreeAsync();
        var queries = _instances.Sum(i => i.Store.Queries);

        await DrainAsync(_instances);

        // Each instance's round: a heartbeat, and a lease when its slice runs low; never a query per retry.
        var rounds = _instances.Sum(i => i.Rounds);
        Assert.True(_instances.Sum(i => i.Store.Queries) - queries <= (2 * rounds) + 1, $"{_instances.Sum(i => i.Store.Queries) - queries} queries in {rounds} rounds");
    }

    [Fact]
    public async Task Share_StoreDown_RunsOnItsOwnBucketAtOnce()
    {
        await ThreeAsync();
        await DrainAsync(_instances);
        var a = _instances[0];
        a.Store.Down = true;
        await a.RoundAsync();
        Assert.False(a.Coordinator.IsConnected);

        for (var i = 0; i < 10; i++)
        {
            a.Budget.RecordSuccess();
        }

        // Its own deposits fund its own retry, as an unshared budget's do; the cluster's bucket is untouched.
        Assert.True(a.Budget.TryWithdraw());
        Assert.Equal(0, _cluster.Budgets["llm"]);
    }

    [Fact]
    public async Task Share_StoreBack_DrawsOnTheClusterAgain()
    {
        await ThreeAsync();
        var a = _instances[0];
        a.Store.Down = true;
        await a.RoundAsync();
        a.Store.Down = false;

        await a.RoundAsync();
        var held = a.Budget.Units;
        var bucket = _cluster.Budgets["llm"];
        for (var i = 0; i < 10; i++)
        {
            a.Budget.RecordSuccess();
        }

        // The deposits are the cluster's again: none lands in the local bucket, the next round publishes them.
        Assert.True(a.Coordinator.IsConnected);
        Assert.Equal(held, a.Budget.Units);
        await a.RoundAsync();
        Assert.Equal(bucket + RetryBudget.UnitsPerToken, _cluster.Budgets["llm"]);
    }

    [Fact]
    public async Task DisposeAsync_InstanceStops_GivesItsTokensBack()
    {
        await ThreeAsync();
        var a = _instances[0];
        var held = a.Budget.Units;
        Assert.True(held > 0);
        var before = _cluster.Budgets["llm"];

        _instances.Remove(a);
        await a.Coordinator.DisposeAsync();

        Assert.Equal(before + held, _cluster.Budgets["llm"]);
    }

    [Fact]
    public async Task Share_SameBudgetTwice_Throws()
    {
        await ThreeAsync();

        Assert.Throws<InvalidOperationException>(() => _instances[0].Coordinator.ShareRetryBudget(_instances[0].Budget, "other"));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.Coordinator.DisposeAsync();
        }
    }

    /// <summary>Each instance retries while its budget lets it, its loop topping it up between bursts, until none can.</summary>
    private static async Task<int[]> DrainAsync(IReadOnlyList<Instance> instances)
    {
        var retries = new int[instances.Count];
        for (var pass = 0; pass < 100; pass++)
        {
            var any = false;
            for (var i = 0; i < instances.Count; i++)
            {
                while (instances[i].Budget.TryWithdraw())
                {
                    retries[i]++;
                    any = true;
                }

                await instances[i].RoundAsync();
            }

            if (!any && pass > 2)
            {
                break;
            }
        }

        return retries;
    }

    private async Task ThreeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            _instances.Add(new Instance(_cluster, _time, "i" + i));
        }

        // Two rounds each: the first joins with the heartbeat counted so far, the second sees every instance alive.
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var instance in _instances)
            {
                await instance.RoundAsync();
            }
        }
    }

    private sealed class Instance
    {
        public Instance(InMemoryCluster cluster, TimeProvider time, string id)
        {
            Store = new InMemoryClusterStore(cluster);
            Coordinator = new ClusterCoordinator(Store, new ClusterOptions { InstanceId = id, LeaseTime = TimeSpan.FromSeconds(3) }, time);
            // No floor: every retry counted here came out of the bucket.
            Budget = new RetryBudget(new RetryBudgetOptions { MaxTokens = MaxTokens, DepositPerSuccess = 0.1, MinRetriesPerSecond = 0 }, time);
            Coordinator.ShareRetryBudget(Budget, "llm");
        }

        public InMemoryClusterStore Store { get; }

        public ClusterCoordinator Coordinator { get; }

        public RetryBudget Budget { get; }

        public int Rounds { get; private set; }

        public Task RoundAsync()
        {
            Rounds++;
            return Coordinator.RunRoundAsync(CancellationToken.None);
        }
    }
}
