using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Resilience.Http.Testing;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that reports every timer created with a finite due time: those are the retry delays
/// (<c>Task.Delay</c>); the timeouts' sources are created idle and armed later, so they are not reported.
/// </summary>
public sealed class DelayRecordingTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _delays = Channel.CreateUnbounded<TimeSpan>();
    private readonly List<TimeSpan> _all = [];
    private Task<TimeSpan>? _pendingRead;

    public DelayRecordingTimeProvider()
        : base(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>Gets every delay started so far.</summary>
    public IReadOnlyList<TimeSpan> Delays
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (_all)
            {
                _all.Add(dueTime);
            }

            _delays.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>Runs <paramref name="task"/> to completion, advancing the clock by each retry delay as soon as it starts.</summary>
    /// <remarks>
    /// One call at a time. The read still pending when a task completes is kept for the next call: abandoned, it would
    /// take the next request's first delay and leave that request waiting forever.
    /// </remarks>
    public async Task<T> DriveAsync<T>(Task<T> task)
    {
        while (!task.IsCompleted)
        {
            var next = _pendingRead ??= _delays.Reader.ReadAsync().AsTask();
            if (await Task.WhenAny(task, next) == next)
            {
                _pendingRead = null;
                Advance(await next);
            }
        }

        return await task;
    }
}
