namespace Resilience.Chaos.Load;

/// <summary>
/// How long after a fault ended callers got their success rate back: from the fault's end to the start of the first
/// time bucket from which every later bucket (with calls in it) has a success rate above the threshold. Calls are
/// placed by when they ended, that is when their caller learned the outcome.
/// </summary>
internal static class RecoveryTime
{
    public const double Threshold = 0.99;

    /// <param name="calls">When each call ended (on the same clock as <paramref name="faultEnd"/>) and whether it succeeded.</param>
    /// <param name="faultEnd">When the fault was over (the database accepting connections again).</param>
    /// <param name="bucket">The bucket width; a bucket must hold enough calls for 99 % to mean something (≥ 100 for one failure).</param>
    /// <returns>The recovery time (zero when callers never dropped below the threshold after the fault); <see langword="null"/> when the run ended still below it.</returns>
    public static TimeSpan? Compute(IEnumerable<(TimeSpan Ended, bool Succeeded)> calls, TimeSpan faultEnd, TimeSpan bucket)
    {
        var buckets = new SortedDictionary<long, (int Calls, int Successes)>();
        foreach (var (ended, succeeded) in calls)
        {
            if (ended < faultEnd)
            {
                continue;
            }

            var index = (ended - faultEnd).Ticks / bucket.Ticks;
            var (n, ok) = buckets.GetValueOrDefault(index);
            buckets[index] = (n + 1, ok + (succeeded ? 1 : 0));
        }

        if (buckets.Count == 0)
        {
            return null;
        }

        // Walk back from the last bucket while the rate holds: the first bucket of that tail is where recovery began.
        long? recoveredFrom = null;
        foreach (var (index, (n, ok)) in buckets.Reverse())
        {
            if ((double)ok / n <= Threshold)
            {
                break;
            }

            recoveredFrom = index;
        }

        return recoveredFrom is { } first ? bucket * first : null;
    }
}
