using System.Globalization;

namespace Resilience.Chaos.Overload;

/// <summary>
/// The long overload sweep (every protection, 20 s a load step, about 13 minutes): it runs with
/// <c>RESILIENCE_OVERLOAD_SWEEP=1</c> (<c>bash scripts/overload.sh</c> sets it) and shows as skipped everywhere else,
/// the reliability run included. <c>RESILIENCE_OVERLOAD_STEP</c>, <c>_WORKERS</c> and <c>_SERVICE_MS</c> change its shape.
/// </summary>
public sealed class OverloadSweepFactAttribute : FactAttribute
{
    public OverloadSweepFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("RESILIENCE_OVERLOAD_SWEEP") != "1")
        {
            Skip = "the long overload sweep: run it with bash scripts/overload.sh (RESILIENCE_OVERLOAD_SWEEP=1)";
        }
    }

    /// <summary>Gets the length of each load step in seconds (default 20).</summary>
    public static int StepSeconds => Setting("RESILIENCE_OVERLOAD_STEP", 20);

    /// <summary>Gets the server's worker count (default 10).</summary>
    public static int Workers => Setting("RESILIENCE_OVERLOAD_WORKERS", 10);

    /// <summary>Gets each request's service time in milliseconds (default 100: with 10 workers, C = 100/s).</summary>
    public static int ServiceMilliseconds => Setting("RESILIENCE_OVERLOAD_SERVICE_MS", 100);

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
