namespace Resilience.Chaos.Reporting;

/// <summary>How long and how hard the scenarios run: bounded by default (CI), longer with <c>RESILIENCE_CHAOS_SOAK=1</c>.</summary>
internal static class ChaosRun
{
    public const string SoakVariable = "RESILIENCE_CHAOS_SOAK";

    /// <summary>Gets a value indicating whether this is the on-demand soak run (scripts/reliability.sh --soak).</summary>
    public static bool IsSoak { get; } = Environment.GetEnvironmentVariable(SoakVariable) is "1" or "true";

    /// <summary>Gets the run's label, printed above every table.</summary>
    public static string Label => IsSoak ? "soak" : "bounded";

    /// <summary>Scales a repetition count: as given when bounded, ten times more in a soak.</summary>
    public static int Repetitions(int bounded) => IsSoak ? bounded * 10 : bounded;

    /// <summary>Scales a wall-clock budget: as given when bounded, ten times longer in a soak.</summary>
    public static TimeSpan Budget(TimeSpan bounded) => IsSoak ? bounded * 10 : bounded;
}
