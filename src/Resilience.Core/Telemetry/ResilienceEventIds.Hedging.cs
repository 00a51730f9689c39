namespace Resilience.Telemetry;

/// <content>Event IDs of hedging (1700–1799). A part of the shared class, so it takes that class's namespace, not its folder's.</content>
public static partial class ResilienceEventIds
{
    /// <summary>A hedged attempt started: the delay passed, or an earlier attempt failed (Information).</summary>
    public const int HedgeStarted = 1700;

    /// <summary>A hedged call settled: which attempt won, of how many started; the others were cancelled (Debug).</summary>
    public const int HedgeWon = 1701;

    /// <summary>Every attempt of a hedged call failed; the last failure surfaced (Warning).</summary>
    public const int HedgesExhausted = 1702;

    /// <summary>Cancelling an abandoned attempt ran a token callback that threw; the attempt is abandoned anyway (Warning).</summary>
    public const int HedgeCancellationFailed = 1703;
}
