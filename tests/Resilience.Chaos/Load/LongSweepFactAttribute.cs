namespace Resilience.Chaos.Load;

/// <summary>
/// A scenario too long for CI's ten minutes on the two-core machine: it runs with <c>RESILIENCE_LONG_SWEEPS=1</c>
/// (<c>scripts/reliability.sh</c> sets it) and shows as skipped, with the reason, everywhere else.
/// </summary>
public sealed class LongSweepFactAttribute : FactAttribute
{
    public LongSweepFactAttribute()
    {
        if (!Enabled)
        {
            Skip = "a long sweep: run it with RESILIENCE_LONG_SWEEPS=1 (bash scripts/reliability.sh does)";
        }
    }

    /// <summary>Gets whether long sweeps run in this process.</summary>
    public static bool Enabled => Environment.GetEnvironmentVariable("RESILIENCE_LONG_SWEEPS") == "1";
}
