using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Failures;
using Resilience.Npgsql.Tests.Infrastructure;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Execution;

/// <summary>The data source's breaker against a real server that is stopped and started again; the breaker's clock is fake.</summary>
public sealed class CircuitBreakerTests
{
    private static readonly Func<NpgsqlCommand, int, CancellationToken, ValueTask<int>> SelectOne = static async (command, _, ct) =>
    {
        command.CommandText = "SELECT 1";
        return (int)(await command.ExecuteScalarAsync(ct))!;
    };

    private static async ValueTask<int> SelectOneEitherWay(NpgsqlCommand command, int state, bool async, CancellationToken ct)
    {
        command.CommandText = "SELECT 1";
        return (int)(await command.ExecuteScalar(async, ct))!;
    }

    [Theory]
    [SyncAndAsync]
    public async Task Execute_ServerStopped_OpensThenClosesAfterServerIsBack(bool async)
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var pool = NpgsqlDataSource.Create(server.ConnectionString + ";Timeout=5");
        var clock = new FakeTimeProvider();
        var options = new NpgsqlResilienceOptions { Name = "breaker-db" };
        options.Retry.MaxRetries = 0; // every call is one attempt, so the count of breaker failures is exact
        options.CircuitBreaker.Mode = CircuitBreakerMode.ConsecutiveFailures;
        options.CircuitBreaker.FailureThreshold = 2;
        options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
        var db = new ResilientDataSource(pool, options, clock);
        var breaker = db.Pipeline.CircuitBreaker!;

        Assert.Equal(1, await db.Execute(async, SelectOneEitherWay, 0));
        await server.PauseAsync();
        var down1 = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(async, SelectOneEitherWay, 0));
        var down2 = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(async, SelectOneEitherWay, 0));
        var rejected = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(async, SelectOneEitherWay, 0));

        // The first call meets the pooled connection the shutdown broke, the second a refused connection: both count.
        Assert.True(PostgresFailureClassifier.IsInfrastructureFailure(down1), down1.FailureKind.ToString());
        Assert.True(PostgresFailureClassifier.IsInfrastructureFailure(down2), down2.FailureKind.ToString());
        Assert.True(down2.FailedBeforeSend);
        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(FailureKind.Unavailable, rejected.FailureKind);
        Assert.Equal(ErrorIds.DatabaseUnavailable, rejected.ErrorId);
        Assert.True(rejected.FailedBeforeSend);
        Assert.Equal(TimeSpan.FromSeconds(30), rejected.RetryAfter);
        Assert.Contains("try again in 30 s", rejected.Message, StringComparison.Ordinal);
        Assert.IsType<BrokenCircuitException>(rejected.InnerException);

        await server.ResumeAsync();
        clock.Advance(TimeSpan.FromSeconds(29));
        var stillOpen = await Assert.ThrowsAsync<DatabaseException>(async () => await db.Execute(async, SelectOneEitherWay, 0));
        Assert.Equal(TimeSpan.FromSeconds(1), stillOpen.RetryAfter);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await db.Execute(async, SelectOneEitherWay, 0)); // the half-open probe reaches the server again
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(2L, breaker.GetSnapshot().Rejections);
    }

    [Fact]
    public async Task ExecuteAndExecuteAsync_ServerStopped_FailureCarriesRetryAfterFromRetryThenBreaker()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var pool = NpgsqlDataSource.Create(server.ConnectionString + ";Timeout=5");
        var clock = new FakeTimeProvider();
        var options = new NpgsqlResilienceOptions { Name = "retry-after-db" };
        options.Retry.MaxRetries = 0; // no waits on the fake clock; the next delay is then the schedule's first
        options.Retry.BaseDelay = TimeSpan.FromSeconds(2);
        options.CircuitBreaker.Mode = CircuitBreakerMode.ConsecutiveFailures;
        options.CircuitBreaker.FailureThreshold = 3;
        options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
        var db = new ResilientDataSource(pool, options, clock);

        Assert.Equal(1, await db.ExecuteAsync(SelectOne, 0));
        await server.PauseAsync();

        // Breaker still closed: the hint is the retry's next (un-jittered) delay, on both paths.
        var down1 = await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteAsync(SelectOne, 0));
        var down2 = Assert.Throws<DatabaseException>(() => db.Execute(static (command, _) =>
        {
            command.CommandText = "SELECT 1";
            return (int)command.ExecuteScalar()!;
        }, 0));
        Assert.Equal(FailureKind.Unavailable, down2.FailureKind);
        Assert.Equal(TimeSpan.FromSeconds(2), down1.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(2), down2.RetryAfter);

        // This call's failure opens the breaker: the hint is the break, not the retry's delay.
        clock.Advance(TimeSpan.FromSeconds(1));
        var opening = await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteAsync(SelectOne, 0));
        Assert.Equal(CircuitState.Open, db.Pipeline.CircuitBreaker!.State);
        Assert.Equal(TimeSpan.FromSeconds(30), opening.RetryAfter);
    }

    [Fact]
    public void CreateBreakerOptions_BreakAboveDefaultCap_IsConstantBreak()
    {
        var seeds = new NpgsqlResilienceOptions();
        seeds.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(60);

        var effective = ResilientDataSource.CreateBreakerOptions(seeds.CircuitBreaker);

        Assert.Equal(TimeSpan.FromSeconds(60), effective.MaxBreakDuration);
        Assert.Equal(TimeSpan.FromSeconds(5), seeds.CircuitBreaker.MaxBreakDuration);
    }
}
