using System.Diagnostics;

namespace Resilience.Telemetry;

/// <summary>Adds tags of your own to a pipeline's duration measurements, from the call's context (e.g. a tenant from its properties).</summary>
/// <param name="context">The call's context; <see langword="null"/> for a call made without one (no context is created to enrich a measurement).</param>
/// <param name="tags">The measurement's tags; add to them.</param>
/// <remarks>Called only while someone listens to the instruments, on the call's path: keep it short and allocation-free.</remarks>
public delegate void ResilienceTagEnricher(ResilienceContext? context, ref TagList tags);
