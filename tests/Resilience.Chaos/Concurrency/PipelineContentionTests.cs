using Microsoft.Extensions.Time.Testing;
using Resilience.Chaos.Reporting;
using Resilience.CircuitBreaking;
using Resilience.Retry;
using Xunit.Abstractions;

namespace Resilience.Chaos.Concurrency;

/// <summary>
/// Scenario 5 (concurrency), the composed pipeline: retry with a shared budget over a failure-ratio breaker, called from
/// many threads while the clock moves. Every call, attempt, retry and budget refusal must be counted exactly once.
/// </summary>
public sealed class PipelineContentionTests(ITestOutputHelper output)
{
    private const int CallsPerCaller = 200;
    private const int InitialTokens = 10;

    [Fact]
    public void Pipeline_ManyCallersFailingOften_CountersAddUpAndRetriesStayWithinBudget()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(new RetryBudgetOptions { MaxTokens = InitialTokens, DepositPerSuccess = 0.1, MinRetriesPerSecond = 0 }, time);
        var pipeline = new ResiliencePipelineBuilder("contended-pipeline") { TimeProvider = time }
            .AddRetry(new RetryOptions { MaxRetries = 3, BaseDelay = TimeSpan.Zero, Budget = budget })
            .AddCircuitBreaker(new CircuitBreakerOptions
            {
                // Counting only: the window rotates under the callers, but never opens, so every attempt reaches the operation.
                Mode = CircuitBreakerMode.FailureRatio,
                MinimumThroughput = int.MaxValue,
                SamplingDuration = TimeSpan.FromSeconds(1),
                SamplingBuckets = 10,
            })
            .Build();
        var statistics = pipeline.RetryStatistics!;
        long calls = 0, successes = 0, failures = 0;
        var invocations = new Counter();
        var perCaller = Enumerable.Range(0, ContendedRounds.Callers).Select(static _ => new Counter()).ToArray();

        var rounds = ContendedRounds.Run(
            ChaosRun.Repetitions(100),
            ChaosRun.Budget(TimeSpan.FromSeconds(8)),
            (caller, _) =>
            {
                for (var i = 0; i < CallsPerCaller; i++)
                {
                    if (caller == 0 && i % 50 == 0)
                    {
                        time.Advance(TimeSpan.FromMilliseconds(50));
                    }

                    Interlocked.Increment(ref calls);
                    try
                    {
                        // Seven attempts in ten fail, whoever makes them: the budget runs dry and refuses retries.
                        pipeline.Execute(static (attempts, _) =>
                        {
                            Interlocked.Increment(ref attempts.All.Value);
                            return ++attempts.Mine.Value % 10 < 7 ? throw new InvalidOperationException("injected") : 1;
                        }, (All: invocations, Mine: perCaller[caller]));
                        Interlocked.Increment(ref successes);
                    }
                    catch (InvalidOperationException)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            },
            _ =>
            {
                var s = statistics.GetSnapshot();
                Assert.Equal(calls, s.Calls);
                Assert.Equal(successes, s.FirstTrySuccesses + s.RetriedSuccesses);
                Assert.Equal(failures, s.Exhausted + s.NotRetried + s.BudgetRejections);
                Assert.Equal(Interlocked.Read(ref invocations.Value), s.Calls + s.TotalRetries);
                Assert.Equal(budget.Rejections, s.BudgetRejections);
                Assert.True(s.TotalRetries <= InitialTokens + (successes / 10), $"{s.TotalRetries} retries, above the budget's {InitialTokens} + 0.1 × {successes} successes");
            });

        var final = statistics.GetSnapshot();
        new FigureTable("Scenario 5 — pipeline (retry + shared budget + ratio breaker) under contention", "callers", "rounds", "calls", "attempts", "retries", "budget refusals", "allowed retries (10 + 0.1 × successes)")
            .Row(ContendedRounds.Callers, rounds, final.Calls, invocations.Value, final.TotalRetries, final.BudgetRejections, InitialTokens + (successes / 10))
            .Print(output);
        Assert.True(rounds >= 10, $"only {rounds} rounds ran");
        Assert.True(final.BudgetRejections > 0, "the budget never refused a retry: the load does not test it");
    }

    /// <summary>A counter passed as state, so the operation stays a static lambda.</summary>
    private sealed class Counter
    {
        public long Value;
    }
}
