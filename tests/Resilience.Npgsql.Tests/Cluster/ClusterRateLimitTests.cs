using System.Threading.RateLimiting;
using Resilience.Cluster;
using Resilience.Npgsql.Cluster;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>A cluster-wide limit on a real PostgreSQL: two instances, each demanding far more than the limit.</summary>
[Collection(PostgresTests.Name)]
public sealed class ClusterRateLimitTests(PostgresFixture postgres)
{
    private const int Limit = 300;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Limit_TwoInstancesOverDemand_AcceptWithinTenPercentOfTheLimitTogether()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        await using var a = new ClusterCoordinator(new PostgresClusterStore(db.ConnectionString), ClusterDatabase.FastOptions("a"));
        await using var b = new ClusterCoordinator(new PostgresClusterStore(db.ConnectionString), ClusterDatabase.FastOptions("b"));
        // An hour's window: the whole test runs inside one, whatever the machine's load.
        var window = TimeSpan.FromHours(1);
        var limiters = new[] { (a, Limiter: a.CreateRateLimiter("per-key", Limit, window)), (b, Limiter: b.CreateRateLimiter("per-key", Limit, window)) };
        await a.RunRoundAsync(CancellationToken.None);
        await b.RunRoundAsync(CancellationToken.None);
        var queriesBefore = a.StoreQueries;

        // Both instances take every permit they can, topping up from the cluster between bursts, until neither gets more.
        var accepted = new int[2];
        for (var round = 0; round < 200; round++)
        {
            var before = accepted[0] + accepted[1];
            for (var i = 0; i < 2; i++)
            {
                while (limiters[i].Limiter.AttemptAcquire().IsAcquired)
                {
                    accepted[i]++;
                }

                await limiters[i].Item1.RunRoundAsync(CancellationToken.None);
            }

            if (accepted[0] + accepted[1] == before && round > 2)
            {
                break;
            }
        }

        var total = accepted[0] + accepted[1];
        Assert.InRange(total, (int)(Limit * 0.9), Limit);
        Assert.True(accepted[0] > Limit / 4 && accepted[1] > Limit / 4, $"a {accepted[0]}, b {accepted[1]}");
        // A slice per query, never a query per call: 300 permits in slices of 300 / (2 × 8) = 18.
        Assert.True(a.StoreQueries - queriesBefore < 60, $"{a.StoreQueries - queriesBefore} queries for {accepted[0]} calls");
    }

    [Fact]
    public async Task Limit_InstanceStops_ReturnsItsUnusedSlice()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var a = new ClusterCoordinator(new PostgresClusterStore(db.ConnectionString), ClusterDatabase.FastOptions("a"));
        using var limiter = a.CreateRateLimiter("returned", Limit, TimeSpan.FromSeconds(60));
        await a.RunRoundAsync(CancellationToken.None);
        var leased = await db.ScalarAsync("SELECT taken FROM resilience_cluster_quota_lease");
        Assert.True(leased > 0);
        Assert.True(limiter.AttemptAcquire().IsAcquired);

        await a.DisposeAsync();

        Assert.Equal(1, await db.ScalarAsync("SELECT taken FROM resilience_cluster_quota_lease"));
    }

    [Fact]
    public async Task Limit_StoreUnreachable_AdmitsTheLocalShareAtOnce()
    {
        // Port 1 on loopback refuses connections: the store is down from the start.
        var unreachable = new global::Npgsql.NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Port = 1, Timeout = 1 }.ConnectionString;
        await using var a = new ClusterCoordinator(new PostgresClusterStore(unreachable), ClusterDatabase.FastOptions("a"));
        using var limiter = a.CreateRateLimiter("local", Limit, Window);

        await a.RunRoundAsync(CancellationToken.None);

        Assert.False(a.IsConnected);
        var admitted = 0;
        while (limiter.AttemptAcquire().IsAcquired)
        {
            admitted++;
        }

        Assert.Equal(Limit, admitted); // one live instance last seen: the whole limit, locally
    }
}
