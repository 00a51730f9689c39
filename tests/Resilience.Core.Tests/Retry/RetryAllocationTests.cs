// These tests prove synchronous completion: reading Result of a completed ValueTask is the point.
#pragma warning disable CA2012, xUnit1031

using Resilience.Retry;

namespace Resilience.Core.Tests.Retry;

// The synchronous path rents a context from the process-wide pool; test classes running in parallel can empty it for a
// moment (seen in a CI-like run: 512 B per call in all three passes), so these measure alone, as a caller would.
[Collection(Pipeline.ResiliencePipelineAllocationTests.Isolated)]
public sealed class RetryAllocationTests
{
    private const int Calls = 10_000;

    // One delegate for warm-up and measurement: a static lambda is cached per call site on first use.
    private static readonly Func<int, CancellationToken, ValueTask<int>> Operation = static (s, _) => new ValueTask<int>(s);
    private static readonly Func<int, CancellationToken, int> SyncOperation = static (s, _) => s;

    private static RetryOnly NewStrategy() => new(new RetryOptions { Budget = new RetryBudget(new RetryBudgetOptions()) });

    [Fact]
    public async Task ExecuteAsync_SyncCompletedFirstTrySuccess_AllocatesNothing()
    {
        var strategy = NewStrategy();
        for (int i = 0; i < Calls; i++)
        {
            await strategy.ExecuteAsync(Operation, i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            var task = strategy.ExecuteAsync(Operation, i);
            Assert.True(task.IsCompletedSuccessfully);
            _ = task.Result;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ExecuteOutcomeAsync_SyncCompletedFirstTrySuccess_AllocatesNothing()
    {
        var strategy = NewStrategy();
        for (int i = 0; i < Calls; i++)
        {
            _ = strategy.ExecuteOutcomeAsync(Operation, i).Result;
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            _ = strategy.ExecuteOutcomeAsync(Operation, i).Result;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Execute_SyncFirstTrySuccess_AllocatesNothing()
    {
        var options = new RetryOptions<int> { ShouldHandleOutcome = static o => o.HasException };
        var strategy = new RetryOnly(options);
        for (int i = 0; i < Calls; i++)
        {
            strategy.Execute(SyncOperation, i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        for (int i = 0; i < Calls; i++)
        {
            sum += strategy.Execute(SyncOperation, i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(49_995_000 + 0L, sum);
    }
}
