namespace ContentService.Tasks.Execution;

/// <summary>Wakes idle workers when this instance creates a task, so it starts without waiting for the next poll.</summary>
internal sealed class TaskSignal : IDisposable
{
    private readonly SemaphoreSlim _ready = new(0, int.MaxValue);

    public void Notify() => _ready.Release();

    public void Dispose() => _ready.Dispose();

    /// <summary>Waits for a notification or the poll interval, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan pollInterval, TimeProvider time, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(pollInterval, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            await _ready.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The poll interval elapsed: look for work (tasks created by other instances, expired leases).
        }
    }
}
