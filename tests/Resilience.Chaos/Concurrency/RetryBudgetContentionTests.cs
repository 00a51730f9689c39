using Microsoft.Extensions.Time.Testing;
using Resilience.Chaos.Reporting;
using Resilience.Retry;
using Xunit.Abstractions;

namespace Resilience.Chaos.Concurrency;

/// <summary>
/// Scenario 5 (concurrency), retry budget: deposits and withdrawals from many threads must add up exactly, and the
/// per-second floor must grant no more than its rate while the clock crosses seconds under the callers.
/// </summary>
public sealed class RetryBudgetContentionTests(ITestOutputHelper output)
{
    [Fact]
    public void Budget_ParallelDepositsAndWithdrawals_TokensAddUpExactly()
    {
        // No floor, so every grant is a token: after draining, tokens = 0.1 × successes − grants, to the millionth.
        var budget = new RetryBudget(new RetryBudgetOptions { MaxTokens = 1000, DepositPerSuccess = 0.1, MinRetriesPerSecond = 0 }, new FakeTimeProvider());
        Drain(budget);
        long granted = 0, refused = 0, successes = 0;
        var rejectionsBefore = budget.Rejections;

        var rounds = ContendedRounds.Run(
            ChaosRun.Repetitions(300),
            ChaosRun.Budget(TimeSpan.FromSeconds(6)),
            (caller, _) =>
            {
                // Seven successes (0.7 tokens) then one retry: the bucket runs dry, so grants and refusals both happen.
                for (var i = 0; i < 320; i++)
                {
                    if (i % 8 == 7)
                    {
                        if (budget.TryWithdraw())
                        {
                            Interlocked.Increment(ref granted);
                        }
                        else
                        {
                            Interlocked.Increment(ref refused);
                        }
                    }
                    else
                    {
                        budget.RecordSuccess();
                        Interlocked.Increment(ref successes);
                    }
                }
            },
            _ =>
            {
                var expectedUnits = (successes * 100_000) - (granted * 1_000_000);
                Assert.Equal(expectedUnits / 1_000_000.0, budget.AvailableTokens, 6);
                Assert.Equal(refused, budget.Rejections - rejectionsBefore);
            });

        new FigureTable("Scenario 5 — retry budget token accounting under contention", "callers", "rounds", "successes", "retries granted", "retries refused", "tokens left (expected)")
            .Row(ContendedRounds.Callers, rounds, successes, granted, refused, $"{budget.AvailableTokens:0.######} ({((successes * 100_000) - (granted * 1_000_000)) / 1_000_000.0:0.######})")
            .Print(output);
        Assert.True(rounds >= 30, $"only {rounds} rounds ran");
        Assert.True(refused > 0 && granted > 0, "the bucket never ran dry or never granted: the round does not test contention");
    }

    [Fact]
    public void BudgetFloor_ClockCrossesSecondsUnderCallers_GrantsAtMostFloorPerSecond()
    {
        const int Floor = 5;
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(new RetryBudgetOptions { MaxTokens = 1, DepositPerSuccess = 0.1, MinRetriesPerSecond = Floor }, time);
        Drain(budget);
        long granted = 0, attempts = 0;
        var secondsVisited = 1;
        var worstRound = 0;
        long grantedBefore = 0;

        var rounds = ContendedRounds.Run(
            ChaosRun.Repetitions(300),
            ChaosRun.Budget(TimeSpan.FromSeconds(6)),
            (caller, _) =>
            {
                // Caller 0 moves the clock one second while the others are asking: a caller that read the old second
                // must not reopen that second's floor after the new second started.
                for (var i = 0; i < 200; i++)
                {
                    if (caller == 0 && i == 100)
                    {
                        time.Advance(TimeSpan.FromSeconds(1));
                    }

                    Interlocked.Increment(ref attempts);
                    if (budget.TryWithdraw())
                    {
                        Interlocked.Increment(ref granted);
                    }
                }
            },
            _ =>
            {
                // Each round touches two seconds (before and after the advance), the first shared with the last round.
                secondsVisited++;
                worstRound = Math.Max(worstRound, (int)(granted - grantedBefore));
                grantedBefore = granted;
            });

        var allowed = (long)Floor * secondsVisited;
        new FigureTable("Scenario 5 — retry budget floor while the clock crosses seconds", "callers", "rounds", "seconds visited", "attempts", "granted", "allowed (floor × seconds)", "most granted in one round")
            .Row(ContendedRounds.Callers, rounds, secondsVisited, attempts, granted, allowed, worstRound)
            .Print(output);
        Assert.True(rounds >= 30, $"only {rounds} rounds ran");
        Assert.True(granted <= allowed, $"the floor granted {granted} retries over {secondsVisited} seconds, above {Floor}/s ({allowed})");
    }

    [Fact]
    public async Task TryWithdraw_CallerHeldStaleSecond_DoesNotReopenNewSecondsFloor()
    {
        const int Floor = 5;
        using var clock = new StallingClock();
        var budget = new RetryBudget(new RetryBudgetOptions { MaxTokens = 1, DepositPerSuccess = 0.1, MinRetriesPerSecond = Floor }, clock);
        Drain(budget);

        // A caller reads second 0 and is held there; meanwhile second 1 starts and uses its whole floor.
        var stale = clock.StallDuring(() => budget.TryWithdraw());
        clock.Advance(TimeSpan.FromSeconds(1));
        var grantedInSecondOne = 0;
        for (var i = 0; i < Floor; i++)
        {
            grantedInSecondOne += budget.TryWithdraw() ? 1 : 0;
        }

        clock.Release();
        await stale.WaitAsync(TimeSpan.FromSeconds(10));
        for (var i = 0; i < Floor; i++)
        {
            grantedInSecondOne += budget.TryWithdraw() ? 1 : 0;
        }

        Assert.Equal(Floor, grantedInSecondOne);
    }

    private static void Drain(RetryBudget budget)
    {
        while (budget.AvailableTokens >= 1)
        {
            Assert.True(budget.TryWithdraw());
        }
    }
}
