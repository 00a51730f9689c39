using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Resilience.CircuitBreaking;
using Resilience.Failures;
using Resilience.Testing;

namespace Resilience.Npgsql.Tests.Recovery;

/// <summary>A short outage's calls wait in bounded numbers, and the first call after the return goes through at once.</summary>
public sealed class OutageRecoveryTests
{
    private static readonly Func<NpgsqlCommand, int, CancellationToken, ValueTask<int>> SelectOne = static async (command, _, ct) =>
    {
        command.CommandText = "SELECT 1";
        return (int)(await command.ExecuteScalarAsync(ct))!;
    };

    /// <summary>Opens after two failures for a 10 s break; calls are tried once and refusals answered at once, so each call's fate is exact.</summary>
    private static NpgsqlResilienceOptions Options(string name)
    {
        var options = new NpgsqlResilienceOptions { Name = name };
        options.Retry.MaxRetries = 0;
        options.Retry.WaitOutShortBreaks = false;

        // The watch looks for the return while the break is no longer than the retry's MaxDelay: a 10 s break is still young.
        options.Retry.MaxDelay = TimeSpan.FromSeconds(10);
        options.CircuitBreaker.Mode = CircuitBreakerMode.ConsecutiveFailures;
        options.CircuitBreaker.FailureThreshold = 2;
        options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(10);
        return options;
    }

    private static async Task OpenCircuitAsync(PostgresServer server, ResilientDataSource db)
    {
        Assert.Equal(1, await db.ExecuteAsync(SelectOne, 0));
        await server.PauseAsync();
        await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteAsync(SelectOne, 0));
        await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteAsync(SelectOne, 0));
        Assert.Equal(CircuitState.Open, db.Pipeline.CircuitBreaker!.State);
    }

    [Fact]
    public async Task ExecuteAsync_ServerBackWithinBreak_CircuitClosesWithoutWaitingOutTheBreak()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var pool = NpgsqlDataSource.Create(server.ConnectionString);
        var db = new ResilientDataSource(pool, Options("return-" + Guid.NewGuid().ToString("N")[..8]));
        await OpenCircuitAsync(server, db);

        // A call that finds the circuit open starts the watch, which sees the server down.
        var refused = await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteAsync(SelectOne, 0));
        Assert.IsType<BrokenCircuitException>(refused.InnerException);
        await server.ResumeAsync();
        var back = Stopwatch.StartNew();
        await db.Admission.ReturnProbe.Watch.WaitAsync(TimeSpan.FromSeconds(10));

        // Closed by the watch's round trip within one probe interval of the return, long before the 10 s break would end.
        Assert.Equal(1, db.Admission.ReturnProbe.CircuitsClosed);
        Assert.Equal(CircuitState.Closed, db.Pipeline.CircuitBreaker!.State);
        Assert.Equal(1, await db.ExecuteAsync(SelectOne, 0));
        Assert.True(back.Elapsed < TimeSpan.FromSeconds(2), $"the first call went through {back.Elapsed} after the server was back");
    }

    [Fact]
    public async Task ExecuteAsync_CircuitOpenAndLimitOfCallsWaiting_NextCallFailsFastWithRetryAfter()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        await using var pool = NpgsqlDataSource.Create(server.ConnectionString);
        var clock = new FakeTimeProvider();
        var options = Options("waiting-" + Guid.NewGuid().ToString("N")[..8]);
        options.Retry.WaitOutShortBreaks = true; // refused calls wait for the probe (the default), on the fake clock
        options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(1);
        options.MaxWaitingCalls = 3;
        options.RecoveryProbeInterval = TimeSpan.Zero; // the limit alone: no watch for the return
        var db = new ResilientDataSource(pool, options, clock);
        await OpenCircuitAsync(server, db);

        using var giveUp = new CancellationTokenSource();
        var waiting = Enumerable.Range(0, 3).Select(_ => db.ExecuteAsync(SelectOne, 0, default, giveUp.Token).AsTask()).ToList();
        Assert.Equal(3, db.Admission.InFlight);
        Assert.All(waiting, static w => Assert.False(w.IsCompleted));

        var refused = await Assert.ThrowsAsync<DatabaseException>(async () => await db.ExecuteAsync(SelectOne, 0));
        Assert.Equal(FailureKind.Unavailable, refused.FailureKind);
        Assert.Equal(ErrorIds.DatabaseUnavailable, refused.ErrorId);
        Assert.True(refused.FailedBeforeSend);
        Assert.IsType<BrokenCircuitException>(refused.InnerException);
        Assert.NotNull(refused.RetryAfter);
        Assert.InRange(refused.RetryAfter.Value, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.Contains("3 calls already wait", refused.Message, StringComparison.Ordinal);
        Assert.Equal(3, db.Admission.InFlight);

        // The waiting calls' callers give up; each one leaves the count, so the limit never leaks.
        await giveUp.CancelAsync();
        foreach (var call in waiting)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(0, db.Admission.InFlight);
    }
}
