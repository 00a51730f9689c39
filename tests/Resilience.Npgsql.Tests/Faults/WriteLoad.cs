using System.Diagnostics;

namespace Resilience.Npgsql.Tests.Faults;

/// <summary>
/// Concurrent writers, each inserting its own numbered rows one after another through an <see cref="IWriteStack"/>,
/// recording every call; faults are triggered on its progress (<see cref="WhenCompletedAsync"/>), not on a clock.
/// </summary>
/// <remarks>
/// Unpaced by default (each writer starts its next insert as soon as the previous one returned, like a batch job): a
/// stack that fails fast while the database is away burns through its writes, one that waits does not. With
/// <c>pace</c>, each writer issues at most one call per interval, like request traffic, until stopped.
/// </remarks>
internal sealed class WriteLoad(int writers, int writesPerWriter, TimeSpan? pace = null)
{
    private readonly long _origin = Stopwatch.GetTimestamp();
    private readonly ProgressSignal _completed = new();
    private readonly ProgressSignal _acknowledged = new();

    public int Writers { get; } = writers;

    public int WritesPerWriter { get; } = writesPerWriter;

    public int Completed => _completed.Count;

    /// <summary>Gets the time since the load was created: the clock of <see cref="CallRecord.Started"/>.</summary>
    public TimeSpan Now => Stopwatch.GetElapsedTime(_origin);

    /// <summary>Completes once <paramref name="calls"/> calls have returned or failed, or when the load has ended.</summary>
    /// <returns>A task to await.</returns>
    public Task WhenCompletedAsync(int calls) => _completed.WhenReachedAsync(calls);

    /// <summary>Completes once <paramref name="writes"/> writes in all have been acknowledged, or when the load has ended.</summary>
    /// <returns>A task to await.</returns>
    public Task WhenAcknowledgedAsync(int writes) => _acknowledged.WhenReachedAsync(writes);

    /// <summary>Gets how many writes were acknowledged so far.</summary>
    public int Acknowledged => _acknowledged.Count;

    /// <summary>Runs every writer to its last write, or until <paramref name="stop"/> is cancelled.</summary>
    /// <returns>Every call made.</returns>
    public async Task<LoadResult> RunAsync(IWriteStack stack, string table, CancellationToken stop = default)
    {
        var started = Now;
        var perWriter = new Task<List<CallRecord>>[Writers];
        for (var w = 0; w < Writers; w++)
        {
            var writer = w;
            perWriter[w] = Task.Run(() => WriteAsync(stack, table, writer, stop));
        }

        List<CallRecord>[] records;
        try
        {
            records = await Task.WhenAll(perWriter);
        }
        finally
        {
            // A fault waiting for progress must not outlive the load.
            _completed.ReleaseAll();
            _acknowledged.ReleaseAll();
        }
        return new LoadResult(stack.Name, [.. records.SelectMany(r => r)], Now - started);
    }

    private async Task<List<CallRecord>> WriteAsync(IWriteStack stack, string table, int writer, CancellationToken stop)
    {
        var records = new List<CallRecord>(Math.Min(WritesPerWriter, 1024));
        for (var sequence = 0; sequence < WritesPerWriter && !stop.IsCancellationRequested; sequence++)
        {
            var started = Now;
            Exception? failure = null;
            try
            {
                await stack.InsertAsync(table, writer, sequence, CancellationToken.None);
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            var latency = Now - started;
            records.Add(new CallRecord(writer, sequence, started, latency, failure, failure is not null && stack.IsRejectedWithoutTrying(failure)));
            if (failure is null)
            {
                _acknowledged.Increment();
            }

            _completed.Increment();
            if (pace is { } interval && interval > latency)
            {
                try
                {
                    // Request traffic arrives at its own rate, whatever the database does.
                    await Task.Delay(interval - latency, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        return records;
    }
}

/// <summary>One call of a <see cref="WriteLoad"/>: which row, when it started (since the load began), how long it took, how it failed.</summary>
internal sealed record CallRecord(int Writer, int Sequence, TimeSpan Started, TimeSpan Latency, Exception? Failure, bool Rejected)
{
    public bool Acknowledged => Failure is null;
}

/// <summary>Every call of one run of a <see cref="WriteLoad"/>.</summary>
internal sealed record LoadResult(string Stack, IReadOnlyList<CallRecord> Calls, TimeSpan Duration)
{
    public int Failed => Calls.Count(c => !c.Acknowledged);

    public int Rejected => Calls.Count(c => c.Rejected);

    /// <summary>The most frequent failure messages, for the report (sanitized by the stacks themselves).</summary>
    public string TopFailures(int count = 3) => string.Join("; ", Calls
        .Where(c => c.Failure is not null)
        .GroupBy(c => c.Failure!.GetType().Name + ": " + c.Failure!.Message + (c.Failure.InnerException is { } inner ? $" ({inner.GetType().Name}: {inner.Message})" : string.Empty))
        .OrderByDescending(g => g.Count())
        .Take(count)
        .Select(g => $"{g.Count()} × {g.Key}"));

    /// <summary>The <paramref name="percentile"/> (0–100) latency of the calls matching <paramref name="which"/>, or <see langword="null"/> when none.</summary>
    public static TimeSpan? Percentile(IEnumerable<CallRecord> which, double percentile)
    {
        var sorted = which.Select(c => c.Latency).Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}

/// <summary>A counter whose waiters are released when it reaches their mark.</summary>
internal sealed class ProgressSignal
{
    private readonly Lock _sync = new();
    private readonly List<(int Mark, TaskCompletionSource Signal)> _waiters = [];
    private int _count;
    private bool _ended;

    public int Count => Volatile.Read(ref _count);

    public Task WhenReachedAsync(int mark)
    {
        lock (_sync)
        {
            if (_ended || _count >= mark)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((mark, signal));
            return signal.Task;
        }
    }

    public void Increment()
    {
        lock (_sync)
        {
            _count++;
            Release(_count);
        }
    }

    public void ReleaseAll()
    {
        lock (_sync)
        {
            _ended = true;
            Release(int.MaxValue);
        }
    }

    private void Release(int reached)
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Mark <= reached)
            {
                _waiters[i].Signal.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }
}
