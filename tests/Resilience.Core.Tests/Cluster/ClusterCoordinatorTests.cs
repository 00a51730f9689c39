using Microsoft.Extensions.Time.Testing;
using Resilience.CircuitBreaking;
using Resilience.Cluster;

namespace Resilience.Core.Tests.Cluster;

/// <summary>The shared breaker's rules, on an in-memory store and a fake clock, rounds run by hand.</summary>
public sealed class ClusterCoordinatorTests : IAsyncDisposable
{
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly InMemoryCluster _cluster;
    private readonly List<Instance> _instances = [];

    public ClusterCoordinatorTests() => _cluster = new InMemoryCluster(_time);

    [Theory]
    [InlineData(1, null, 1)]
    [InlineData(2, null, 2)]
    [InlineData(3, null, 2)]
    [InlineData(4, null, 3)]
    [InlineData(5, null, 3)]
    [InlineData(3, 1, 1)]
    [InlineData(2, 3, 2)]
    [InlineData(0, null, 1)]
    public void Required_LiveInstances_MajorityUnlessSet(int live, int? quorum, int expected) =>
        Assert.Equal(expected, ClusterQuorum.Required(live, quorum));

    [Fact]
    public void Constructor_InvalidOptions_ListsEveryError()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new ClusterCoordinator(
            new InMemoryClusterStore(_cluster),
            new ClusterOptions { SyncInterval = TimeSpan.FromSeconds(2), LeaseTime = TimeSpan.FromSeconds(3), Quorum = 0 }));

        Assert.Contains("LeaseTime: must be at least twice SyncInterval", error.Message, StringComparison.Ordinal);
        Assert.Contains("Quorum: must be 1 or more", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_ClusterWideBreakerWithoutCluster_ThrowsNamingTheFix()
    {
        using var registry = new CircuitBreakerRegistry();

        var error = Assert.Throws<InvalidOperationException>(() => registry.GetOrAdd("llm", new CircuitBreakerOptions { ClusterWide = true }));

        Assert.Contains("AddNpgsqlCluster", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Share_SameBreakerTwice_Throws()
    {
        var coordinator = new ClusterCoordinator(new InMemoryClusterStore(_cluster), timeProvider: _time);
        var breaker = new CircuitBreaker("twice", new CircuitBreakerOptions(), _time);
        coordinator.Share(breaker);

        Assert.Throws<InvalidOperationException>(() => coordinator.Share(breaker));
    }

    [Fact]
    public void IsReached_NoVotes_NeverEvenWithQuorumOne() => Assert.False(ClusterQuorum.IsReached(0, 3, 1));

    [Fact]
    public async Task Round_QuorumOfInstancesSawFailures_OpensEveryInstance()
    {
        var (a, b, c) = await ThreeAsync();

        Trip(a);
        Trip(b);
        await RoundsAsync();

        Assert.All(_instances, i => Assert.Equal(CircuitState.Open, i.Breaker.State));
        Assert.Equal(CircuitTransitionReason.Cluster, c.LastChange!.Value.Reason);
        Assert.False(c.Breaker.TryAcquire(out _));
    }

    [Fact]
    public async Task Round_OneInstanceFailing_OpensNoOther()
    {
        var (a, b, c) = await ThreeAsync();

        Trip(a);
        await RoundsAsync();
        await RoundsAsync();

        Assert.Equal(CircuitState.Open, a.Breaker.State);
        Assert.Equal(CircuitState.Closed, b.Breaker.State);
        Assert.Equal(CircuitState.Closed, c.Breaker.State);
    }

    [Fact]
    public async Task Round_BreakEnds_ExactlyOneInstanceProbesAndItsSuccessClosesAll()
    {
        var (a, b, _) = await ThreeAsync();
        Trip(a);
        Trip(b);
        await RoundsAsync();

        await AdvanceAsync(Break);

        var probes = new List<CircuitPermit>();
        foreach (var instance in _instances)
        {
            // Several calls on each instance: only the cluster's prober admits one, the others keep refusing.
            for (var call = 0; call < 3; call++)
            {
                if (instance.Breaker.TryAcquire(out var permit))
                {
                    probes.Add(permit);
                }
            }
        }

        Assert.Single(probes);
        probes[0].Succeeded();
        await RoundsAsync();

        Assert.All(_instances, i => Assert.Equal(CircuitState.Closed, i.Breaker.State));
        Assert.Empty(_cluster.Votes);
    }

    [Fact]
    public async Task Round_ProbeFails_AllOpenAgainForTheNextBreak()
    {
        var (a, b, _) = await ThreeAsync();
        Trip(a);
        Trip(b);
        await RoundsAsync();
        await AdvanceAsync(Break);

        var probes = new List<CircuitPermit>();
        foreach (var instance in _instances)
        {
            if (instance.Breaker.TryAcquire(out var permit))
            {
                probes.Add(permit);
            }
        }

        Assert.Single(probes).Failed();
        await RoundsAsync();

        Assert.All(_instances, i => Assert.Equal(CircuitState.Open, i.Breaker.State));
        _time.Advance(Break / 2);
        Assert.All(_instances, i => Assert.False(i.Breaker.TryAcquire(out _)));
        Assert.Equal(2, _cluster.Breakers["shared"].Epoch);
    }

    [Fact]
    public async Task TryAcquire_ProbeFailedNotYetPublished_ProberDoesNotProbeAgain()
    {
        var (a, b, _) = await ThreeAsync();
        Trip(a);
        Trip(b);
        await RoundsAsync();
        await AdvanceAsync(Break);
        Instance? prober = null;
        foreach (var instance in _instances)
        {
            if (instance.Breaker.TryAcquire(out var permit))
            {
                prober = instance;
                permit.Failed();
            }
        }

        // The loop is late (a loaded machine): the prober's own break ends before its result is published.
        _time.Advance(Break);

        Assert.NotNull(prober);
        Assert.False(prober.Breaker.TryAcquire(out _));
    }

    [Fact]
    public async Task Round_StoreDown_EveryInstanceFallsBackToItsOwnBreaker()
    {
        var (a, b, _) = await ThreeAsync();
        Trip(a);
        Trip(b);
        await RoundsAsync();
        _time.Advance(Break);

        foreach (var instance in _instances)
        {
            instance.Store.Down = true;
        }

        await RoundsAsync();

        Assert.All(_instances, i => Assert.False(i.Coordinator.IsConnected));
        // No prober was chosen before the store went: each instance probes for itself, as an unshared breaker would.
        Assert.All(_instances, i => Assert.True(i.Breaker.TryAcquire(out _)));
    }

    [Fact]
    public async Task Round_StoreDown_LocalFaultStillOpensLocally()
    {
        var (a, _, _) = await ThreeAsync();
        a.Store.Down = true;
        await RoundsAsync();

        Trip(a);

        Assert.Equal(CircuitState.Open, a.Breaker.State);
    }

    [Fact]
    public async Task Round_StoreBack_InstanceRejoinsAndVotesCount()
    {
        var (a, b, c) = await ThreeAsync();
        a.Store.Down = true;
        await RoundsAsync();
        Trip(a);
        Trip(b);
        await RoundsAsync();
        Assert.Equal(CircuitState.Closed, c.Breaker.State);

        a.Store.Down = false;
        await RoundsAsync();

        Assert.True(a.Coordinator.IsConnected);
        Assert.Equal(CircuitState.Open, c.Breaker.State);
    }

    [Fact]
    public async Task Round_InstanceDied_ItsVoteLapsesWithItsLease()
    {
        var (a, b, c) = await ThreeAsync();
        Trip(a);
        await RoundsAsync();

        // A stops (killed): no more heartbeats. Once its lease lapses, its vote no longer counts towards the quorum.
        _instances.Remove(a);
        await AdvanceAsync(TimeSpan.FromSeconds(4));
        Trip(b);
        await RoundsAsync();

        Assert.Equal(2, _cluster.Live);
        Assert.Equal(CircuitState.Closed, c.Breaker.State);
    }

    [Fact]
    public async Task Round_ProberDied_AnotherInstanceTakesTheProbeAfterTheLease()
    {
        var (a, b, _) = await ThreeAsync();
        Trip(a);
        Trip(b);
        await RoundsAsync();
        await AdvanceAsync(Break);
        var prober = _instances.Single(i => i.Coordinator.InstanceId == _cluster.Breakers["shared"].Holder);

        _instances.Remove(prober);
        await AdvanceAsync(TimeSpan.FromSeconds(6));

        Assert.Single(_instances, i => i.Breaker.TryAcquire(out _));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.Coordinator.DisposeAsync();
        }
    }

    private static void Trip(Instance instance)
    {
        for (var i = 0; i < 2; i++)
        {
            Assert.True(instance.Breaker.TryAcquire(out var permit));
            permit.Failed();
        }

        Assert.Equal(CircuitState.Open, instance.Breaker.State);
    }

    private async Task<(Instance A, Instance B, Instance C)> ThreeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            _instances.Add(new Instance(_cluster, _time, "i" + i));
        }

        await RoundsAsync();
        return (_instances[0], _instances[1], _instances[2]);
    }

    /// <summary>Moves the clock a second at a time, each live instance running its rounds, as their loops would.</summary>
    private async Task AdvanceAsync(TimeSpan duration)
    {
        for (var left = duration; left > TimeSpan.Zero; left -= TimeSpan.FromSeconds(1))
        {
            _time.Advance(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
            await RoundsAsync();
        }
    }

    /// <summary>Every live instance runs a round, twice (the second sees what the first published).</summary>
    private async Task RoundsAsync()
    {
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var instance in _instances)
            {
                await instance.Coordinator.RunRoundAsync(CancellationToken.None);
            }
        }
    }

    private sealed class Instance
    {
        public Instance(InMemoryCluster cluster, TimeProvider time, string id)
        {
            Store = new InMemoryClusterStore(cluster);
            Coordinator = new ClusterCoordinator(Store, new ClusterOptions
            {
                InstanceId = id,
                SyncInterval = TimeSpan.FromSeconds(1),
                LeaseTime = TimeSpan.FromSeconds(3),
                VoteWindow = TimeSpan.FromSeconds(30),
            }, time);
            Breaker = new CircuitBreaker("shared", new CircuitBreakerOptions
            {
                FailureThreshold = 2,
                BreakDuration = Break,
                ProbeTimeout = TimeSpan.FromSeconds(5),
                OnStateChanged = change => LastChange = change,
            }, time);
            Coordinator.Share(Breaker);
        }

        public InMemoryClusterStore Store { get; }

        public ClusterCoordinator Coordinator { get; }

        public CircuitBreaker Breaker { get; }

        public CircuitStateChange? LastChange { get; private set; }
    }
}
