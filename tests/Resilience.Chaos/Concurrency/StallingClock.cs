namespace Resilience.Chaos.Concurrency;

/// <summary>
/// A manual clock that can hold one thread right after it read the time, so a test can move the clock under a caller
/// that already holds the old reading: the interleaving a preempted thread sees, made deterministic.
/// </summary>
internal sealed class StallingClock : TimeProvider, IDisposable
{
    private readonly ManualResetEventSlim _read = new();
    private readonly ManualResetEventSlim _release = new();
    private long _ticks = TimeSpan.TicksPerDay;
    private int _stalledThread = -1;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        var now = Volatile.Read(ref _ticks);
        if (Interlocked.CompareExchange(ref _stalledThread, -1, Environment.CurrentManagedThreadId) == Environment.CurrentManagedThreadId)
        {
            _read.Set();
            _release.Wait();
        }

        return now;
    }

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

    /// <summary>Runs <paramref name="action"/> on a new thread, which stops right after its next clock reading until <see cref="Release"/>.</summary>
    public Task StallDuring(Action action)
    {
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = Task.Factory.StartNew(
            () =>
            {
                Volatile.Write(ref _stalledThread, Environment.CurrentManagedThreadId);
                action();
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        _read.Wait(TimeSpan.FromSeconds(10));
        return task;
    }

    public void Release() => _release.Set();

    public void Dispose()
    {
        _read.Dispose();
        _release.Dispose();
    }
}
