namespace Resilience.Chaos.Reporting;

/// <summary>Nearest-rank percentiles of measured durations.</summary>
internal static class Percentiles
{
    public static TimeSpan Of(IReadOnlyCollection<TimeSpan> samples, double percentile)
    {
        if (samples.Count == 0)
        {
            return TimeSpan.Zero;
        }

        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(sorted.Length * percentile / 100.0) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
