using System.Diagnostics.Metrics;

namespace Resilience.Telemetry;

/// <summary>The names under which the library reports metrics, so dashboards and listeners can find them.</summary>
/// <remarks>
/// All instruments live on one <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="MeterName"/>.
/// Instrument names are lowercase, dotted, and carry units; tags use the <c>resilience.*</c> names below.
/// Instruments cost nothing measurable while no listener is enabled.
/// </remarks>
public static class ResilienceTelemetry
{
    /// <summary>The name of the library's meter.</summary>
    public const string MeterName = "Resilience";

    /// <summary>Tag: the name of the breaker, pipeline, fallback or monitor that reported.</summary>
    public const string NameTag = "resilience.name";

    /// <summary>Tag: the circuit state (<c>closed</c>, <c>open</c>, <c>half_open</c>, <c>isolated</c>).</summary>
    public const string StateTag = "resilience.state";

    /// <summary>Tag: why something happened (e.g. the exception type or status that triggered a retry).</summary>
    public const string ReasonTag = "resilience.reason";

    /// <summary>Tag: what kind of fallback was served (<c>stale</c> or <c>static</c>).</summary>
    public const string FallbackKindTag = "resilience.fallback.kind";

    /// <summary>Tag: which timeout fired (<c>attempt</c> or <c>total</c>).</summary>
    public const string TimeoutKindTag = "resilience.timeout.kind";

    /// <summary>Tag: how a call or attempt ended (<c>success</c>, <c>failure</c>, or <c>rejected</c> by a layer).</summary>
    public const string OutcomeTag = "resilience.outcome";

    /// <summary>Tag: the attempt number (0 for the first attempt, 1 for the first retry).</summary>
    public const string AttemptTag = "resilience.attempt";

    /// <summary>The library's meter. Created once per process; instruments are created by each feature.</summary>
    internal static readonly Meter Meter = new(MeterName, typeof(ResilienceTelemetry).Assembly.GetName().Version?.ToString());
}
