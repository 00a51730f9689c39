using Npgsql;
using Resilience.Health;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Health;

[Collection(PostgresTests.Name)]
public sealed class PoolHealthThresholdsTests(PostgresFixture postgres)
{
    [Fact]
    public void ForPool_PoolTimeoutTwoSeconds_WaiterDegradesAfterOneSecondNotFive()
    {
        var configured = new PoolHealthOptions { WaitersSustainedFor = TimeSpan.FromSeconds(5), AcquireWaitBudget = TimeSpan.FromSeconds(3) };

        var fitted = PoolHealthThresholds.ForPool(configured, "Host=127.0.0.1;Timeout=2");

        Assert.Equal(TimeSpan.FromSeconds(1), fitted.WaitersSustainedFor);
        Assert.Equal(TimeSpan.FromSeconds(1), fitted.AcquireWaitBudget);
        Assert.Equal(configured.CheckInterval, fitted.CheckInterval);
        Assert.Equal(configured.MaxReportAge, fitted.MaxReportAge);
    }

    [Fact]
    public void ForPool_ShorterThresholdsConfigured_Kept()
    {
        var configured = new PoolHealthOptions { WaitersSustainedFor = TimeSpan.Zero, AcquireWaitBudget = TimeSpan.FromMilliseconds(200) };

        var fitted = PoolHealthThresholds.ForPool(configured, "Host=127.0.0.1;Timeout=15");

        Assert.Equal(TimeSpan.Zero, fitted.WaitersSustainedFor);
        Assert.Equal(TimeSpan.FromMilliseconds(200), fitted.AcquireWaitBudget);
    }

    [Fact]
    public async Task ExecuteAsync_PoolExhausted_FailedAcquireCountsInAcquireWaits()
    {
        await using var pool = NpgsqlDataSource.Create(postgres.ConnectionString + ";Maximum Pool Size=1;Timeout=1");
        var db = new ResilientDataSource(pool);
        await using var held = await pool.OpenConnectionAsync();

        await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteAsync(
            static (command, _, ct) => ValueTask.FromResult(0), 0, DbCallOptions.Idempotent));

        Assert.True(db.AcquireWaits.GetP99() >= TimeSpan.FromMilliseconds(900), $"p99 {db.AcquireWaits.GetP99()}");
    }
}
