using Microsoft.Extensions.Time.Testing;

namespace Resilience.Http.Testing;

/// <summary>
/// A fake clock that moves only while the code under test sleeps: whenever a <c>Task.Delay</c> is pending, it jumps to
/// the earliest due timer (a timeout due first fires first), and never while a request is on the network.
/// </summary>
/// <remarks>
/// Any library that takes a <see cref="TimeProvider"/> (ours, Polly, Microsoft.Extensions.Http.Resilience) runs its
/// retry delays, timeouts and breaks on it, so a scenario of minutes runs in milliseconds and its virtual duration is
/// exact. A timer is a sleep when its state is a task (what <c>Task.Delay</c> creates); a cancellation source's timer
/// (a timeout) or a breaker's timer never moves the clock by itself. Xunit-free, so other suites can reuse it.
/// </remarks>
public sealed class VirtualTimeProvider : FakeTimeProvider
{
    private readonly Lock _sync = new();
    private readonly List<TrackedTimer> _timers = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public VirtualTimeProvider()
        : base(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var tracked = new TrackedTimer(this, callback, state, isSleep: state is Task);
        tracked.Inner = base.CreateTimer(static s => ((TrackedTimer)s!).Fire(), tracked, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        lock (_sync)
        {
            _timers.Add(tracked);
        }

        tracked.Change(dueTime, period);
        return tracked;
    }

    /// <summary>Runs <paramref name="task"/> to completion, moving the clock through every sleep it (or anything it waits for) takes.</summary>
    public async Task<T> DriveAsync<T>(Task<T> task)
    {
        while (!task.IsCompleted)
        {
            Task changed;
            TimeSpan? step;
            lock (_sync)
            {
                changed = _changed.Task;
                step = NextStepLocked();
            }

            if (step is { } delta)
            {
                Advance(delta);
                continue;
            }

            await Task.WhenAny(task, changed).ConfigureAwait(false);
        }

        return await task.ConfigureAwait(false);
    }

    private TimeSpan? NextStepLocked()
    {
        var now = GetUtcNow();
        DateTimeOffset? earliest = null;
        var sleeping = false;
        foreach (var timer in _timers)
        {
            if (timer.DueAt is not { } due)
            {
                continue;
            }

            sleeping |= timer.IsSleep;
            if (earliest is null || due < earliest)
            {
                earliest = due;
            }
        }

        return sleeping && earliest is { } next ? (next > now ? next - now : TimeSpan.Zero) : null;
    }

    private void Changed()
    {
        TaskCompletionSource previous;
        lock (_sync)
        {
            previous = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _timers.RemoveAll(static t => t.IsDisposed);
        }

        previous.TrySetResult();
    }

    private sealed class TrackedTimer(VirtualTimeProvider owner, TimerCallback callback, object? state, bool isSleep) : ITimer
    {
        private readonly Lock _gate = new();
        private DateTimeOffset? _dueAt;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public ITimer Inner { get; set; } = null!;

        public bool IsSleep { get; } = isSleep;

        public bool IsDisposed { get; private set; }

        public DateTimeOffset? DueAt
        {
            get
            {
                lock (_gate)
                {
                    return _dueAt;
                }
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (_gate)
            {
                _dueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner.GetUtcNow() + dueTime;
                _period = period;
            }

            var changed = Inner.Change(dueTime, period);
            owner.Changed();
            return changed;
        }

        public void Fire()
        {
            lock (_gate)
            {
                _dueAt = _period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero ? null : owner.GetUtcNow() + _period;
            }

            callback(state);
            owner.Changed();
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _dueAt = null;
                IsDisposed = true;
            }

            Inner.Dispose();
            owner.Changed();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
