using System.Diagnostics;
using Npgsql;
using Resilience.AdaptiveConcurrency;
using Resilience.CircuitBreaking;
using Resilience.Failures;
using Resilience.Testing;
using Xunit.Abstractions;

namespace Resilience.Npgsql.Tests.Overload;

/// <summary>The adaptive concurrency limit in front of the pool, on a real server whose pool is held by slow statements.</summary>
[Collection(PostgresTests.Name)]
public sealed class ConcurrencyLimitTests(PostgresFixture postgres, ITestOutputHelper output)
{
    // The pool would make an extra call wait this long for a connection; the limit refuses it long before.
    private const int AcquireTimeoutSeconds = 30;

    private static NpgsqlResilienceOptions Options(Action<NpgsqlConcurrencyLimitOptions>? configure = null)
    {
        var options = new NpgsqlResilienceOptions { Name = "limited-" + Guid.NewGuid().ToString("N")[..6] };
        options.QueryTimeouts.StatementTimeout = TimeSpan.FromSeconds(20);
        options.ConcurrencyLimit.Enabled = true;
        options.ConcurrencyLimit.MaxQueueWait = TimeSpan.FromMilliseconds(200);
        configure?.Invoke(options.ConcurrencyLimit);
        return options;
    }

    /// <summary>Starts a call that holds its connection in <c>pg_sleep</c> until <paramref name="release"/> is cancelled; signals <paramref name="entered"/> once it runs.</summary>
    private static async Task Hold(ResilientDataSource db, Arrivals entered, CancellationToken release)
    {
        try
        {
            await db.ExecuteAsync(
                static async (command, state, ct) =>
                {
                    command.CommandText = "SELECT pg_sleep(20)";
                    state.Signal();
                    return await command.ExecuteScalarAsync(ct);
                },
                entered,
                DbCallOptions.Idempotent,
                release);
        }
        catch (OperationCanceledException) when (release.IsCancellationRequested)
        {
            // Released by the test: the statement was cancelled on the server.
        }
    }

    private static ValueTask<int> SelectOne(ResilientDataSource db, CallPriority priority) => db.ExecuteAsync(
        static async (command, _, ct) =>
        {
            command.CommandText = "SELECT 1";
            return (int)(await command.ExecuteScalarAsync(ct))!;
        },
        0,
        new DbCallOptions { IsIdempotent = true, Priority = priority });

    [Fact]
    public async Task Execute_PoolSaturatedBySlowStatements_ExtraCallRefusedQuicklyNotAfterTheAcquireTimeout()
    {
        await using var pool = NpgsqlDataSource.Create($"{postgres.ConnectionString};Maximum Pool Size=3;Timeout={AcquireTimeoutSeconds}");
        var db = new ResilientDataSource(pool, Options());
        using var release = new CancellationTokenSource();
        var entered = new Arrivals(3);
        var held = Enumerable.Range(0, 3).Select(_ => Hold(db, entered, release.Token)).ToArray();
        await entered.All.WaitAsync(TimeSpan.FromSeconds(20)); // bounds a failing run only

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DatabaseException>(async () => await SelectOne(db, CallPriority.Normal));
        watch.Stop();
        output.WriteLine($"refused after {watch.Elapsed.TotalMilliseconds:F0} ms (pool acquire timeout {AcquireTimeoutSeconds} s)");

        var refusal = Assert.IsType<ConcurrencyLimitRejectedException>(error.InnerException);
        Assert.IsAssignableFrom<ExecutionRejectedException>(refusal);
        Assert.Equal(FailureKind.Unavailable, error.FailureKind);
        Assert.Equal(ErrorIds.DatabaseUnavailable, error.ErrorId);
        Assert.True(error.FailedBeforeSend);
        Assert.NotNull(error.RetryAfter);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}"); // sanity bound; the pool would wait 30 s
        Assert.Equal(3, db.ConcurrencyLimiter!.Limit);
        Assert.Equal(3, db.ConcurrencyLimiter.InFlight);
        Assert.Equal(0L, db.Pipeline.RetryStatistics!.GetSnapshot().TotalRetries); // a refusal is not retried
        Assert.Equal(CircuitState.Closed, db.Pipeline.CircuitBreaker!.State);
        Assert.Equal(0, db.Pipeline.CircuitBreaker.GetSnapshot().Failures);

        await release.CancelAsync();
        await Task.WhenAll(held);
        Assert.Equal(1, await SelectOne(db, CallPriority.Normal));
    }

    [Fact]
    public async Task Execute_UnderPressure_SheddableRefusedAtOnce_CriticalKeepsCapacity()
    {
        await using var pool = NpgsqlDataSource.Create($"{postgres.ConnectionString};Maximum Pool Size=4;Timeout={AcquireTimeoutSeconds}");
        var db = new ResilientDataSource(pool, Options(static l => l.SheddableShare = 0.5));
        using var release = new CancellationTokenSource();
        var entered = new Arrivals(2);
        var held = Enumerable.Range(0, 2).Select(_ => Hold(db, entered, release.Token)).ToArray();
        await entered.All.WaitAsync(TimeSpan.FromSeconds(20)); // bounds a failing run only

        var shed = await Assert.ThrowsAsync<DatabaseException>(async () => await SelectOne(db, CallPriority.Sheddable));
        var critical = await SelectOne(db, CallPriority.Critical);
        var normal = await SelectOne(db, CallPriority.Normal);

        Assert.IsType<ConcurrencyLimitRejectedException>(shed.InnerException);
        Assert.Equal(1, critical);
        Assert.Equal(1, normal);
        await release.CancelAsync();
        await Task.WhenAll(held);
    }

    [Fact]
    public void Options_DerivedFromThePoolSize()
    {
        var resolved = new NpgsqlResilienceOptions().ConcurrencyLimit.Resolve(maxPoolSize: 50, acquireTimeoutSeconds: 1);

        Assert.Equal(50, resolved.MaxLimit);
        Assert.Equal(50, resolved.InitialLimit);
        Assert.Equal(5, resolved.MinLimit);
        Assert.Equal(50, resolved.QueueLimit);
        Assert.Equal(TimeSpan.FromMilliseconds(500), resolved.MaxQueueWait); // half the acquire timeout, below the 1 s default
    }

    [Fact]
    public async Task Pipeline_LimitEnabled_CoresLimitPerAttemptBetweenRetryAndBreaker()
    {
        await using var pool = NpgsqlDataSource.Create($"{postgres.ConnectionString};Maximum Pool Size=3");
        var db = new ResilientDataSource(pool, Options());

        var kinds = db.Pipeline.Describe().Select(static d => d.Kind).ToArray();

        Assert.Equal(["Retry", "AdaptiveConcurrencyPerAttempt", "CircuitBreaker"], kinds);
        Assert.True(Assert.IsType<AdaptiveConcurrencyOptions>(db.Pipeline.Describe()[1].Options).PerAttempt);
    }

    [Fact]
    public void Classify_DatabaseFailures_TimeoutsShrinkUnreachableSaysNothingErrorsAreSamples()
    {
        var timeout = new DatabaseException("statement timeout", FailureKind.Timeout, ErrorIds.Timeout, "57014", failedBeforeSend: false, null);
        var unreachable = new DatabaseException("refused", FailureKind.Unavailable, ErrorIds.DatabaseUnavailable, null, failedBeforeSend: true, null);
        var conflict = new DatabaseException("duplicate", FailureKind.Conflict, ErrorIds.AlreadyExists, "23505", failedBeforeSend: false, null);

        Assert.Equal(CallEnd.TimedOut, NpgsqlConcurrencyLimitOptions.Classify(timeout));
        Assert.Equal(CallEnd.Ignored, NpgsqlConcurrencyLimitOptions.Classify(unreachable));
        Assert.Equal(CallEnd.Completed, NpgsqlConcurrencyLimitOptions.Classify(conflict));
        Assert.Equal(
            (Func<Exception, CallEnd>)NpgsqlConcurrencyLimitOptions.Classify,
            new NpgsqlConcurrencyLimitOptions().Resolve(maxPoolSize: 10, acquireTimeoutSeconds: 0).ClassifyFailure);
    }

    /// <summary>Completes <see cref="All"/> once <c>Signal</c> was called the given number of times (awaited, so no test thread blocks).</summary>
    private sealed class Arrivals(int count)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _left = count;

        public Task All => _all.Task;

        public void Signal()
        {
            if (Interlocked.Decrement(ref _left) == 0)
            {
                _all.TrySetResult();
            }
        }
    }
}
