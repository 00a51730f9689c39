using System.Diagnostics;
using Resilience.Chaos.Load;
using Resilience.Npgsql.Tests.Faults;

namespace Resilience.Chaos.Database.Faults;

/// <summary>
/// Writes arriving at a fixed rate, whatever the database does, as real request traffic arrives: each arrival is a new
/// call, started on schedule even while earlier ones are still waiting (the open-loop twin of the fault harness's
/// <see cref="WriteLoad"/>, recording the same <see cref="CallRecord"/>s).
/// </summary>
/// <remarks>
/// A closed loop slows down when the database does and speeds up when a stack fails fast; an open loop does neither, so
/// a stack that waits piles up calls (and pool waiters) and a stack that fails fast fails exactly the calls that arrive.
/// </remarks>
internal sealed class OpenLoopLoad(int ratePerSecond, int writers = 8)
{
    private readonly long _origin = Stopwatch.GetTimestamp();
    private readonly ProgressSignal _completed = new();

    public int RatePerSecond { get; } = ratePerSecond;

    /// <summary>Gets the time since the load was created: the clock of <see cref="CallRecord.Started"/>.</summary>
    public TimeSpan Now => Stopwatch.GetElapsedTime(_origin);

    /// <summary>Completes once <paramref name="calls"/> calls have returned or failed, or when the load has ended.</summary>
    public Task WhenCompletedAsync(int calls) => _completed.WhenReachedAsync(calls);

    /// <summary>Issues calls on schedule until <paramref name="stop"/> is cancelled, then waits for the calls in flight.</summary>
    /// <returns>Every call made.</returns>
    public async Task<LoadResult> RunAsync(IWriteStack stack, string table, CancellationToken stop)
    {
        var started = Now;
        try
        {
            var calls = await ArrivalSchedule.RunAsync(RatePerSecond, arrival => CallAsync(stack, table, arrival), stop);
            return new LoadResult(stack.Name, calls, Now - started);
        }
        finally
        {
            _completed.ReleaseAll();
        }
    }

    private async Task<CallRecord> CallAsync(IWriteStack stack, string table, int arrival)
    {
        var started = Now;
        Exception? failure = null;
        try
        {
            await stack.InsertAsync(table, arrival % writers, arrival / writers, CancellationToken.None);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        var record = new CallRecord(arrival % writers, arrival / writers, started, Now - started, failure, failure is not null && stack.IsRejectedWithoutTrying(failure));
        _completed.Increment();
        return record;
    }
}
