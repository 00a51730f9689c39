namespace Resilience.Telemetry;

/// <summary>Stable IDs of the library's log events, in one range per feature, so log queries never break.</summary>
/// <remarks>
/// Ranges: circuit breaker 1000–1099, fallback 1100–1199, retry 1200–1299, timeouts 1300–1399, rate limiter 1400–1499,
/// pool health 1500–1599, pipeline and reload 1600–1699, hedging 1700–1799, Npgsql adapter 2000–2099, HTTP adapter 3000–3099.
/// Each feature declares its constants in its own part of this class, <c>ResilienceEventIds.{Feature}.cs</c> in this
/// folder: the parts of a partial class share one namespace, and namespaces follow folders, so they cannot sit in the
/// feature folders while the class stays one public type in <c>Resilience.Telemetry</c>.
/// </remarks>
public static partial class ResilienceEventIds
{
}
