using System.Threading.Channels;

namespace ContentService.Events;

/// <summary>A change of a task's status, stage or progress.</summary>
internal sealed record TaskEvent(Guid TaskId, string Status, string Stage, int Progress, string? ErrorId, DateTimeOffset At);

/// <summary>
/// In-process fan-out of task changes made by this instance's executor to the event streams watching them. Each
/// subscriber has a small bounded buffer that keeps the latest changes, so a slow client never holds the executor up.
/// </summary>
internal sealed class TaskEventHub
{
    private readonly Dictionary<Guid, Channel<TaskEvent>[]> _subscribers = [];
    private readonly Lock _gate = new();

    public void Publish(TaskEvent change)
    {
        Channel<TaskEvent>[]? channels;
        lock (_gate)
        {
            _subscribers.TryGetValue(change.TaskId, out channels);
        }

        foreach (var channel in channels ?? [])
        {
            channel.Writer.TryWrite(change);
        }
    }

    /// <summary>Subscribes to one task's changes until the subscription is disposed.</summary>
    public Subscription Subscribe(Guid taskId)
    {
        var channel = Channel.CreateBounded<TaskEvent>(new BoundedChannelOptions(16) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_gate)
        {
            // Copy-on-write: Publish iterates a snapshot without holding the lock.
            _subscribers[taskId] = _subscribers.TryGetValue(taskId, out var existing) ? [.. existing, channel] : [channel];
        }

        return new Subscription(this, taskId, channel);
    }

    private void Unsubscribe(Guid taskId, Channel<TaskEvent> channel)
    {
        lock (_gate)
        {
            if (_subscribers.TryGetValue(taskId, out var existing))
            {
                var rest = Array.FindAll(existing, c => c != channel);
                if (rest.Length == 0)
                {
                    _subscribers.Remove(taskId);
                }
                else
                {
                    _subscribers[taskId] = rest;
                }
            }
        }
    }

    internal sealed class Subscription(TaskEventHub hub, Guid taskId, Channel<TaskEvent> channel) : IDisposable
    {
        public ChannelReader<TaskEvent> Reader => channel.Reader;

        public void Dispose()
        {
            channel.Writer.TryComplete();
            hub.Unsubscribe(taskId, channel);
        }
    }
}
