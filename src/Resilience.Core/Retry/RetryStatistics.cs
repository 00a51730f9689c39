using Resilience.Telemetry;

namespace Resilience.Retry;

/// <summary>Lock-free counters of how calls through a retry strategy ended; read them at any time with <see cref="GetSnapshot"/>.</summary>
/// <remarks>Share one instance between strategies to count all calls to one dependency together.</remarks>
public sealed class RetryStatistics
{
    // The one counter on the success path of every call: striped, so counting costs no atomic instruction.
    private readonly StripedCounter _firstTrySuccesses = new();
    private long _retriedSuccesses;
    private long _exhausted;
    private long _notRetried;
    private long _budgetRejections;
    private long _deadlineStops;
    private long _retries;

    /// <summary>Returns a consistent-enough copy of the counters (each counter is read atomically).</summary>
    /// <returns>The counters at this moment.</returns>
    public RetryStatisticsSnapshot GetSnapshot() => new(
        _firstTrySuccesses.Read(),
        Volatile.Read(ref _retriedSuccesses),
        Volatile.Read(ref _exhausted),
        Volatile.Read(ref _notRetried),
        Volatile.Read(ref _budgetRejections),
        Volatile.Read(ref _retries),
        Volatile.Read(ref _deadlineStops));

    internal void RecordFirstTrySuccess() => _firstTrySuccesses.Increment();

    internal void RecordRetriedSuccess() => Interlocked.Increment(ref _retriedSuccesses);

    internal void RecordExhausted() => Interlocked.Increment(ref _exhausted);

    internal void RecordNotRetried() => Interlocked.Increment(ref _notRetried);

    internal void RecordBudgetRejection() => Interlocked.Increment(ref _budgetRejections);

    internal void RecordRetry() => Interlocked.Increment(ref _retries);

    internal void RecordDeadlineStop() => Interlocked.Increment(ref _deadlineStops);
}

/// <summary>The counters of a <see cref="RetryStatistics"/> at one moment.</summary>
public readonly record struct RetryStatisticsSnapshot
{
    internal RetryStatisticsSnapshot(long firstTrySuccesses, long retriedSuccesses, long exhausted, long notRetried, long budgetRejections, long retries, long deadlineStops)
    {
        FirstTrySuccesses = firstTrySuccesses;
        RetriedSuccesses = retriedSuccesses;
        Exhausted = exhausted;
        NotRetried = notRetried;
        BudgetRejections = budgetRejections;
        TotalRetries = retries;
        DeadlineStops = deadlineStops;
    }

    /// <summary>Gets the number of completed calls (the sum of the five ways a call can end).</summary>
    public long Calls => FirstTrySuccesses + RetriedSuccesses + Exhausted + NotRetried + BudgetRejections + DeadlineStops;

    /// <summary>Gets the number of calls that succeeded on the first attempt.</summary>
    public long FirstTrySuccesses { get; }

    /// <summary>Gets the number of calls that succeeded after at least one retry.</summary>
    public long RetriedSuccesses { get; }

    /// <summary>Gets the number of calls that failed after using every allowed retry.</summary>
    public long Exhausted { get; }

    /// <summary>Gets the number of calls that failed with an outcome not worth a retry, or after the caller cancelled.</summary>
    public long NotRetried { get; }

    /// <summary>Gets the number of calls that failed because the retry budget had no token for a retry.</summary>
    public long BudgetRejections { get; }

    /// <summary>Gets the number of calls whose last failure surfaced because the next delay would have ended past the deadline.</summary>
    public long DeadlineStops { get; }

    /// <summary>Gets the number of retries performed (attempts after the first).</summary>
    public long TotalRetries { get; }

    /// <summary>Gets the share of completed calls that succeeded, from 0 to 1.</summary>
    /// <value>1 when no call has completed yet.</value>
    public double SuccessRate
    {
        get
        {
            long calls = Calls;
            return calls == 0 ? 1.0 : (FirstTrySuccesses + RetriedSuccesses) / (double)calls;
        }
    }
}
