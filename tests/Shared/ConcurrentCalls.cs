namespace Resilience.Testing;

/// <summary>Runs a call in a loop on several workers while the test changes something under them (a reload, say), and collects every call's result.</summary>
internal static class ConcurrentCalls
{
    /// <summary>Starts <paramref name="workers"/> loops of <paramref name="call"/>, runs <paramref name="meanwhile"/> once each has completed a call, then stops them.</summary>
    /// <returns>The result of every call made, in no particular order.</returns>
    public static async Task<List<T>> RunWhileAsync<T>(int workers, Func<Task<T>> call, Func<Task> meanwhile)
    {
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var loops = new Task<List<T>>[workers];
        for (var w = 0; w < workers; w++)
        {
            loops[w] = Task.Run(async () =>
            {
                var results = new List<T>();
                while (!stop.IsCancellationRequested)
                {
                    results.Add(await call());
                    if (results.Count == 1 && Interlocked.Increment(ref running) == workers)
                    {
                        started.TrySetResult();
                    }
                }

                return results;
            });
        }

        // A worker that fails before every one has started surfaces its exception instead of leaving the test waiting.
        var all = Task.WhenAll(loops);
        if (await Task.WhenAny(started.Task, all) != started.Task)
        {
            await all;
        }

        try
        {
            await meanwhile();
        }
        finally
        {
            await stop.CancelAsync();
        }

        return (await all).SelectMany(static r => r).ToList();
    }
}
