using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Resilience.Telemetry;

namespace Resilience.CircuitBreaking;

/// <summary>The circuit breaker's instruments: transitions and rejections counters, and a state gauge per registered breaker.</summary>
internal sealed class CircuitBreakerTelemetry : IResilienceInstruments<CircuitBreakerTelemetry>
{
    private readonly Meter _meter;
    private readonly Counter<long> _transitions;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _abandonedProbes;
    private readonly Lock _registriesLock = new();
    private readonly List<WeakReference<CircuitBreakerRegistry>> _registries = [];

    // Created once the first registry registers; observes every live registry's breakers.
    private ObservableGauge<int>? _stateGauge;

    private CircuitBreakerTelemetry(Meter meter)
    {
        _meter = meter;
        _transitions = meter.CreateCounter<long>(
            "resilience.circuit_breaker.transitions", "{transition}", "State changes of circuit breakers.");
        _rejections = meter.CreateCounter<long>(
            "resilience.circuit_breaker.rejections", "{call}", "Calls rejected by an open, isolated or probing circuit.");
        _abandonedProbes = meter.CreateCounter<long>(
            "resilience.circuit_breaker.abandoned_probes", "{probe}", "Probe calls of half-open circuits that did not report within the probe timeout.");
    }

    public static CircuitBreakerTelemetry Create(Meter meter) => new(meter);

    public static string StateName(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        _ => "isolated",
    };

    // Inlined down to the Enabled check: an open circuit's rejection costs a few nanoseconds, and a call is a good part of that.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RecordRejection(string name)
    {
        if (_rejections.Enabled)
        {
            AddRejection(name);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddRejection(string name) => _rejections.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));

    public void RecordAbandonedProbes(string name, int probes)
    {
        if (_abandonedProbes.Enabled)
        {
            _abandonedProbes.Add(probes, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }
    }

    public void RecordTransition(in CircuitStateChange change)
    {
        if (_transitions.Enabled)
        {
            var tags = new TagList
            {
                { ResilienceTelemetry.NameTag, change.BreakerName },
                { ResilienceTelemetry.StateTag, StateName(change.To) },
                { ResilienceTelemetry.ReasonTag, change.Reason.ToString() },
            };
            _transitions.Add(1, tags);
        }
    }

    public void Register(CircuitBreakerRegistry registry)
    {
        lock (_registriesLock)
        {
            _registries.RemoveAll(static r => !r.TryGetTarget(out _));
            _registries.Add(new WeakReference<CircuitBreakerRegistry>(registry));
            _stateGauge ??= _meter.CreateObservableGauge(
                "resilience.circuit_breaker.state",
                ObserveStates,
                "{state}",
                "State of each registered circuit breaker: 0 closed, 1 open, 2 half-open, 3 isolated.");
        }
    }

    public void Unregister(CircuitBreakerRegistry registry)
    {
        lock (_registriesLock)
        {
            _registries.RemoveAll(r => !r.TryGetTarget(out var target) || ReferenceEquals(target, registry));
        }
    }

    private List<Measurement<int>> ObserveStates()
    {
        var measurements = new List<Measurement<int>>();
        lock (_registriesLock)
        {
            foreach (var weak in _registries)
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
