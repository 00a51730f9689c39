using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Resilience.Retry;

namespace Resilience.Core.Tests.Retry;

public sealed class RetryBudgetTests
{
    private readonly FakeTimeProvider _time = new();

    private RetryBudget Budget(double max = 2, double deposit = 0.1, int floor = 0) =>
        new(new RetryBudgetOptions { MaxTokens = max, DepositPerSuccess = deposit, MinRetriesPerSecond = floor }, _time);

    [Fact]
    public void New_StartsFull()
    {
        Assert.Equal(2.0, Budget().AvailableTokens);
    }

    [Fact]
    public void TryWithdraw_TakesOneTokenEach_ThenRefusesAndCounts()
    {
        var budget = Budget();

        Assert.True(budget.TryWithdraw());
        Assert.True(budget.TryWithdraw());
        Assert.Equal(0.0, budget.AvailableTokens);
        Assert.False(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());
        Assert.Equal(2, budget.Rejections);
    }

    [Fact]
    public void RecordSuccess_TenDepositsOfOneTenth_AddExactlyOneToken()
    {
        var budget = Budget();
        budget.TryWithdraw();
        budget.TryWithdraw();

        for (int i = 0; i < 9; i++)
        {
            budget.RecordSuccess();
        }

        Assert.Equal(0.9, budget.AvailableTokens, 12);
        Assert.False(budget.TryWithdraw());
        budget.RecordSuccess();
        Assert.Equal(1.0, budget.AvailableTokens);
        Assert.True(budget.TryWithdraw());
        Assert.Equal(0.0, budget.AvailableTokens);
    }

    [Fact]
    public void RecordSuccess_AtCap_StaysAtCap()
    {
        var budget = Budget(max: 1.05, deposit: 0.1);
        budget.RecordSuccess();
        Assert.Equal(1.05, budget.AvailableTokens, 12);
        budget.TryWithdraw();
        for (int i = 0; i < 100; i++)
        {
            budget.RecordSuccess();
        }

        Assert.Equal(1.05, budget.AvailableTokens, 12);
    }

    [Fact]
    public void TryWithdraw_EmptyBucket_FloorAllowsMinRetriesPerSecond_AndRefillsNextSecond()
    {
        var budget = Budget(max: 1, floor: 2);
        Assert.True(budget.TryWithdraw());

        Assert.True(budget.TryWithdraw());
        Assert.True(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(budget.TryWithdraw());

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(budget.TryWithdraw());
        Assert.True(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());
        Assert.Equal(3, budget.Rejections);
        Assert.Equal(0.0, budget.AvailableTokens);
    }

    [Fact]
    public void TryWithdraw_ConcurrentCallers_NeverOverdraw()
    {
        var budget = Budget(max: 1000, floor: 0);
        int granted = 0;
        Parallel.For(0, 4000, _ =>
        {
            if (budget.TryWithdraw())
            {
                Interlocked.Increment(ref granted);
            }
        });

        Assert.Equal(1000, granted);
        Assert.Equal(3000, budget.Rejections);
        Assert.Equal(0.0, budget.AvailableTokens);
    }

    [Fact]
    public void New_DepositAboveMaxTokens_ThrowsNamingTheRule()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Budget(max: 0.5, deposit: 1));
        Assert.Contains("DepositPerSuccess", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void New_NegativeFloor_Throws()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Budget(floor: -1));
        Assert.Contains("MinRetriesPerSecond", ex.Message, StringComparison.Ordinal);
    }
}
