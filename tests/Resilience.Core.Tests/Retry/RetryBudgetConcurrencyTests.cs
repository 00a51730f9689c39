using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.Retry;

namespace Resilience.Core.Tests.Retry;

/// <summary>The budget's lock-free updates under contention, and its construction edges.</summary>
public sealed class RetryBudgetConcurrencyTests
{
    private readonly FakeTimeProvider _time = new();

    private RetryBudget Budget(double max, double deposit = 0.1, int floor = 0) =>
        new(new RetryBudgetOptions { MaxTokens = max, DepositPerSuccess = deposit, MinRetriesPerSecond = floor }, _time);

    /// <summary>Runs <paramref name="body"/> on several threads released together, so their compare-and-swap loops collide.</summary>
    private static void OnThreads(Action body)
    {
        var workers = Math.Max(2, Environment.ProcessorCount);
        using var start = new Barrier(workers);
        var threads = new Thread[workers];
        for (var w = 0; w < workers; w++)
        {
            threads[w] = new Thread(() =>
            {
                start.SignalAndWait();
                body();
            });
            threads[w].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }
    }

    private static int Workers => Math.Max(2, Environment.ProcessorCount);

    [Fact]
    public void RecordSuccess_ConcurrentDeposits_NoneIsLost()
    {
        var budget = Budget(max: 1000, deposit: 0.001);
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(budget.TryWithdraw());
        }

        const int PerWorker = 100_000;
        OnThreads(() =>
        {
            for (var i = 0; i < PerWorker; i++)
            {
                budget.RecordSuccess();
            }
        });

        // Every deposit is a thousandth of a token; a deposit lost to a collided compare-and-swap shows here.
        Assert.Equal(Workers * PerWorker / 1000.0, budget.AvailableTokens);
    }

    [Theory]
    [InlineData(200_000, 0)]
    [InlineData(1_000, 200_000)]
    public void TryWithdraw_ConcurrentCallersOnTokensAndFloor_GrantExactlyBoth(int tokens, int floor)
    {
        // The tokens, then the floor retries of this (frozen) second: not one more, not one less.
        var budget = Budget(max: tokens, floor: floor);
        const int PerWorker = 300_000;
        long granted = 0;
        OnThreads(() =>
        {
            long mine = 0;
            for (var i = 0; i < PerWorker; i++)
            {
                if (budget.TryWithdraw())
                {
                    mine++;
                }
            }

            Interlocked.Add(ref granted, mine);
        });

        Assert.Equal(tokens + floor, granted);
        Assert.Equal((Workers * PerWorker) - tokens - floor, budget.Rejections);
        Assert.Equal(0.0, budget.AvailableTokens);
    }

    [Fact]
    public void New_NullOptions_ThrowsArgumentNull()
    {
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => new RetryBudget(null!, _time)).ParamName);
    }

    [Fact]
    public void New_InvalidOptions_ThrowsBeforeUse()
    {
        Assert.Throws<OptionsValidationException>(() => Budget(max: 0));
    }

    [Fact]
    public void New_WithoutTimeProvider_FloorRunsOnTheSystemClock()
    {
        var budget = new RetryBudget(new RetryBudgetOptions { MaxTokens = 1, DepositPerSuccess = 0.1, MinRetriesPerSecond = 1 });

        Assert.True(budget.TryWithdraw());
        Assert.True(budget.TryWithdraw());
    }

    [Fact]
    public void TryWithdraw_NoFloor_EmptyBucketRefusesInLaterSecondsToo()
    {
        var budget = Budget(max: 1, floor: 0);
        Assert.True(budget.TryWithdraw());

        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.False(budget.TryWithdraw());
        Assert.Equal(1, budget.Rejections);
    }

    [Fact]
    public void TryWithdraw_PartialToken_IsNotEnoughForARetry()
    {
        var budget = Budget(max: 1.5, floor: 0);
        Assert.True(budget.TryWithdraw());

        Assert.False(budget.TryWithdraw());
        Assert.Equal(0.5, budget.AvailableTokens);
    }
}
