namespace Resilience.Chaos.Load;

/// <summary>
/// Open-loop arrivals: starts call number n at n / rate seconds after the start, whatever earlier calls are doing, until
/// stopped; then waits for the calls in flight. Real traffic arrives this way: it does not slow down when a server does.
/// </summary>
internal static class ArrivalSchedule
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(5);

    /// <returns>Every call's result, in arrival order.</returns>
    public static async Task<T[]> RunAsync<T>(int ratePerSecond, Func<int, Task<T>> call, CancellationToken stop)
    {
        var started = TimeProvider.System.GetTimestamp();
        var calls = new List<Task<T>>();
        using var ticks = new PeriodicTimer(Tick);
        try
        {
            // Each tick issues every arrival that fell due since the last one, so a late tick never lowers the rate.
            do
            {
                var due = (long)(TimeProvider.System.GetElapsedTime(started).TotalSeconds * ratePerSecond);
                while (calls.Count < due)
                {
                    var arrival = calls.Count;
                    calls.Add(Task.Run(() => call(arrival)));
                }
            }
            while (await ticks.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run's end.
        }

        return await Task.WhenAll(calls);
    }
}
