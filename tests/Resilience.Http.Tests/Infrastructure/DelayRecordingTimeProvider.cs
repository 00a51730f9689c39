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

            // A breaker's break is not a delay a request waits out: advancing by it, when this call's read takes it
            // before the call completes, would end the break the test is about (the next request becomes a probe).
            if (state?.GetType().DeclaringType != typeof(Resilience.CircuitBreaking.CircuitBreaker))
            {
                _delays.Writer.TryWrite(dueTime);
            }
        }

        return timer;
    }

    /// <summary>Runs <paramref name="task"/> to completion, advancing the clock by each retry delay as soon as it starts.</summary>
    /// <remarks>
    /// The read still pending when the task completes is cancelled, not abandoned: an abandoned read would take the next
    /// call's first delay and leave that request waiting forever. A breaker's break timer is never read (see
    /// <see cref="CreateTimer"/>).
    /// </remarks>
    public async Task<T> DriveAsync<T>(Task<T> task)
    {
        using var done = new CancellationTokenSource();
        while (!task.IsCompleted)
        {
            var next = _delays.Reader.ReadAsync(done.Token).AsTask();
            if (await Task.WhenAny(task, next) == next)
            {
                Advance(await next);
            }
            else
            {
                await done.CancelAsync();
                await next.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }

        return await task;
    }
}
