using Resilience.Cluster;
using Resilience.Npgsql.Cluster;
using Resilience.Retry;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Cluster;

/// <summary>A cluster-wide retry budget on a real PostgreSQL: three instances, each retrying as much as its budget lets it.</summary>
[Collection(PostgresTests.Name)]
public sealed class ClusterRetryBudgetTests(PostgresFixture postgres)
{
    private const int MaxTokens = 10;

    [Fact]
    public async Task Budget_ThreeInstancesRetrying_OneBucketTogetherInSlices()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var instances = new List<(ClusterCoordinator Coordinator, RetryBudget Budget)>();
        for (var i = 0; i < 3; i++)
        {
            var coordinator = new ClusterCoordinator(new PostgresClusterStore(db.ConnectionString), ClusterDatabase.FastOptions("i" + i));
            var budget = NewBudget();
            coordinator.ShareRetryBudget(budget, "llm");
            instances.Add((coordinator, budget));
        }

        try
        {
            foreach (var (coordinator, _) in instances)
            {
                await coordinator.RunRoundAsync(CancellationToken.None);
            }

            var queriesBefore = instances.Sum(i => i.Coordinator.StoreQueries);
            var retries = new int[3];
            var rounds = 0;
            for (var pass = 0; pass < 100; pass++)
            {
                var any = false;
                for (var i = 0; i < 3; i++)
                {
                    while (instances[i].Budget.TryWithdraw())
                    {
                        retries[i]++;
                        any = true;
                    }

                    await instances[i].Coordinator.RunRoundAsync(CancellationToken.None);
                    rounds++;
                }

                if (!any && pass > 2)
                {
                    break;
                }
            }

            // Unshared, each instance's bucket would allow 10: 30 retries against the dependency.
            Assert.Equal(MaxTokens, retries.Sum());
            Assert.Equal(0, await db.ScalarAsync("SELECT units FROM resilience_cluster_budget WHERE name = 'llm'"));
            // A heartbeat a round and a lease when a slice runs low: never a query per retry.
            var queries = instances.Sum(i => i.Coordinator.StoreQueries) - queriesBefore;
            Assert.True(queries <= 2 * rounds, $"{queries} queries in {rounds} rounds");
        }
        finally
        {
            foreach (var (coordinator, _) in instances)
            {
                await coordinator.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Budget_InstanceStops_GivesItsTokensAndDepositsBack()
    {
        await using var db = await ClusterDatabase.CreateAsync(postgres.ConnectionString);
        var a = new ClusterCoordinator(new PostgresClusterStore(db.ConnectionString), ClusterDatabase.FastOptions("a"));
        var budget = NewBudget();
        a.ShareRetryBudget(budget, "llm");
        await a.RunRoundAsync(CancellationToken.None);
        var leftInCluster = await db.ScalarAsync("SELECT units FROM resilience_cluster_budget");
        Assert.True(leftInCluster < MaxTokens * RetryBudget.UnitsPerToken);
        Assert.True(budget.TryWithdraw());
        budget.RecordSuccess();

        await a.DisposeAsync();

        // All but the one retry taken, the success's deposit included.
        Assert.Equal(((MaxTokens - 1) * RetryBudget.UnitsPerToken) + (RetryBudget.UnitsPerToken / 10), await db.ScalarAsync("SELECT units FROM resilience_cluster_budget"));
    }

    [Fact]
    public async Task Budget_StoreUnreachable_RunsOnItsOwnBucketAtOnce()
    {
        // Port 1 on loopback refuses connections: the store is down from the start.
        var unreachable = new global::Npgsql.NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Port = 1, Timeout = 1 }.ConnectionString;
        await using var a = new ClusterCoordinator(new PostgresClusterStore(unreachable), ClusterDatabase.FastOptions("a"));
        var budget = NewBudget();
        a.ShareRetryBudget(budget, "llm");

        await a.RunRoundAsync(CancellationToken.None);

        Assert.False(a.IsConnected);
        var retries = 0;
        while (budget.TryWithdraw())
        {
            retries++;
        }

        for (var i = 0; i < 10; i++)
        {
            budget.RecordSuccess();
        }

        Assert.Equal(MaxTokens, retries); // its own full bucket, as an unshared budget
        Assert.True(budget.TryWithdraw()); // and its own deposits refill it
    }

    private static RetryBudget NewBudget() =>
        new(new RetryBudgetOptions { MaxTokens = MaxTokens, DepositPerSuccess = 0.1, MinRetriesPerSecond = 0 });
}
