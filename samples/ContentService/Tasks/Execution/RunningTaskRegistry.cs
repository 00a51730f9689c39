using System.Collections.Concurrent;

namespace ContentService.Tasks.Execution;

/// <summary>The tasks this instance is running, so a cancel request stops their work at once (other instances notice at their next lease renewal).</summary>
internal sealed class RunningTaskRegistry
{
    private readonly ConcurrentDictionary<Guid, Entry> _running = new();

    public int Count => _running.Count;

    public void Add(Guid id, CancellationTokenSource cancellation) => _running[id] = new Entry(cancellation);

    public void Remove(Guid id)
    {
        if (_running.TryRemove(id, out var entry))
        {
            entry.Stopped.TrySetResult();
        }
    }

    /// <summary>Completes when the task's run here has ended (at once when it is not running here).</summary>
    public Task WhenStopped(Guid id) => _running.TryGetValue(id, out var entry) ? entry.Stopped.Task : Task.CompletedTask;

    /// <summary>Cancels the task's work if it runs here; returns whether it did.</summary>
    public bool Cancel(Guid id)
    {
        if (!_running.TryGetValue(id, out var entry))
        {
            return false;
        }

        try
        {
            entry.Cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The work ended in the meantime: nothing left to cancel.
        }

        return true;
    }

    private sealed record Entry(CancellationTokenSource Cancellation)
    {
        public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
