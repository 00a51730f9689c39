using System.Collections.Concurrent;

namespace ContentService.Tasks.Execution;

/// <summary>The tasks this instance is running, so a cancel request stops their work at once (other instances notice at their next lease renewal).</summary>
internal sealed class RunningTaskRegistry
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    public void Add(Guid id, CancellationTokenSource cancellation) => _running[id] = cancellation;

    public void Remove(Guid id) => _running.TryRemove(id, out _);

    public int Count => _running.Count;

    /// <summary>Cancels the task's work if it runs here; returns whether it did.</summary>
    public bool Cancel(Guid id)
    {
        if (!_running.TryGetValue(id, out var cancellation))
        {
            return false;
        }

        try
        {
            cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The work ended in the meantime: nothing left to cancel.
        }

        return true;
    }
}
