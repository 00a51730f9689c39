using System.Diagnostics;
using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.CircuitBreaking;

/// <summary>The circuit breaker's instruments: transitions and rejections counters, and a state gauge per registered breaker.</summary>
internal static class CircuitBreakerTelemetry
{
    private static readonly Counter<long> Transitions = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.circuit_breaker.transitions", "{transition}", "State changes of circuit breakers.");

    private static readonly Counter<long> Rejections = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.circuit_breaker.rejections", "{call}", "Calls rejected by an open, isolated or probing circuit.");

    private static readonly Counter<long> AbandonedProbes = ResilienceTelemetry.Meter.CreateCounter<long>(
        "resilience.circuit_breaker.abandoned_probes", "{probe}", "Probe calls of half-open circuits that did not report within the probe timeout.");

    private static readonly Lock RegistriesLock = new();
    private static readonly List<WeakReference<CircuitBreakerRegistry>> Registries = [];

    // Created once the first registry registers; observes every live registry's breakers.
    private static ObservableGauge<int>? _stateGauge;

    public static string StateName(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        _ => "isolated",
    };

    public static void RecordRejection(string name)
    {
        if (Rejections.Enabled)
        {
            Rejections.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }

    public static void RecordAbandonedProbes(string name, int probes)
    {
        if (AbandonedProbes.Enabled)
        {
            AbandonedProbes.Add(probes, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }

    public static void RecordTransition(in CircuitStateChange change)
    {
        if (Transitions.Enabled)
        {
            var tags = new TagList
            {
                { ResilienceTelemetry.NameTag, change.BreakerName },
                { ResilienceTelemetry.StateTag, StateName(change.To) },
                { ResilienceTelemetry.ReasonTag, change.Reason.ToString() },
            };
            Transitions.Add(1, tags);
        }
    }

    public static void Register(CircuitBreakerRegistry registry)
    {
        lock (RegistriesLock)
        {
            Registries.RemoveAll(static r => !r.TryGetTarget(out _));
            Registries.Add(new WeakReference<CircuitBreakerRegistry>(registry));
            _stateGauge ??= ResilienceTelemetry.Meter.CreateObservableGauge(
                "resilience.circuit_breaker.state",
                ObserveStates,
                "{state}",
                "State of each registered circuit breaker: 0 closed, 1 open, 2 half-open, 3 isolated.");
        }
    }

    public static void Unregister(CircuitBreakerRegistry registry)
    {
        lock (RegistriesLock)
        {
            Registries.RemoveAll(r => !r.TryGetTarget(out var target) || ReferenceEquals(target, registry));
        }
    }

    private static List<Measurement<int>> ObserveStates()
    {
        var measurements = new List<Measurement<int>>();
        lock (RegistriesLock)
        {
            foreach (var weak in Registries)
            {
                if (!weak.TryGetTarget(out var registry))
                {
                    continue;
                }

                foreach (var breaker in registry.GetBreakers())
                {
                    measurements.Add(new Measurement<int>((int)breaker.State, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, breaker.Name)));
                }
            }
        }

        return measurements;
    }
}
