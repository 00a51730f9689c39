using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Http;
using Resilience.Telemetry;

namespace ContentService.Status;

/// <summary>
/// Listens to the library's <c>Resilience</c> meter: counts retries, fallbacks, rejections and timeouts per
/// dependency, and keeps each breaker's recent transitions (the registry has no change event, but every transition
/// of every breaker is a measurement on <c>resilience.circuit_breaker.transitions</c>).
/// </summary>
/// <remarks>
/// The meter is process-wide: several hosts in one process (tests) hear each other's measurements. Transitions are
/// kept only for breakers this host's registry holds.
/// </remarks>
internal sealed class ResilienceMeterRecorder : IHostedService, IDisposable
{
    private const string TransitionsInstrument = "resilience.circuit_breaker.transitions";

    // Instrument → the label shown on the page and the tag that says "which kind" within it.
    private static readonly Dictionary<string, (string Metric, string? DetailTag)> Counted = new(StringComparer.Ordinal)
    {
        // Also counts the HTTP handler's retries (its pipelines are Core's, named like its breakers), so not resilience.http.retries too.
        ["resilience.retry.attempts"] = ("retries", null),
        ["resilience.retry.budget_exhausted"] = ("retry budget exhausted", null),
        ["resilience.fallback.served"] = ("fallbacks served", ResilienceTelemetry.FallbackKindTag),
        [HttpResilienceTelemetry.HandledInstrument] = ("answered by the HTTP handler itself", HttpResilienceTelemetry.OutcomeTag),
        ["resilience.circuit_breaker.rejections"] = ("rejected by an open circuit", null),
        ["resilience.timeout.timeouts"] = ("timeouts", ResilienceTelemetry.TimeoutKindTag),
        ["resilience.rate_limiter.rejections"] = ("rate limited", null),
    };

    private readonly CircuitBreakerRegistry _registry;
    private readonly TimeProvider _time;
    private readonly int _transitionsPerBreaker;
    private readonly ConcurrentDictionary<(string Metric, string Name, string Detail), StrongBox<long>> _counts = new();
    private readonly ConcurrentDictionary<string, BoundedRing<BreakerTransition>> _transitions = new(StringComparer.Ordinal);
    private readonly MeterListener _listener = new();

    public ResilienceMeterRecorder(CircuitBreakerRegistry registry, TimeProvider time, IOptions<StatusPageOptions> options)
    {
        _registry = registry;
        _time = time;
        _transitionsPerBreaker = options.Value.TransitionsPerBreaker;
        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == ResilienceTelemetry.MeterName
                && (instrument.Name == TransitionsInstrument || Counted.ContainsKey(instrument.Name)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener.Dispose();

    /// <summary>Every counter seen so far, one per metric, dependency and detail, ordered by them.</summary>
    /// <remarks>
    /// A dependency's counts are summed over its hosts: the handler's pipelines are named per authority
    /// (<c>llm-local:http://…</c>), and the page shows one row per logical name.
    /// </remarks>
    public IReadOnlyList<CounterValue> GetCounters()
    {
        var sums = new Dictionary<(string Metric, string Name, string Detail), long>(_counts.Count);
        foreach (var (key, box) in _counts)
        {
            var row = (key.Metric, BreakerView.LogicalName(key.Name), key.Detail);
            sums[row] = sums.GetValueOrDefault(row) + Volatile.Read(ref box.Value);
        }

        var list = new List<CounterValue>(sums.Count);
        foreach (var ((metric, name, detail), count) in sums)
        {
            list.Add(new CounterValue(metric, name, detail, count));
        }

        list.Sort(static (a, b) =>
        {
            var byMetric = string.CompareOrdinal(a.Metric, b.Metric);
            if (byMetric != 0)
            {
                return byMetric;
            }

            var byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Detail, b.Detail);
        });
        return list;
    }

    /// <summary>The breaker's recent transitions, oldest first; empty when it never changed state.</summary>
    public BreakerTransition[] GetTransitions(string breakerName) =>
        _transitions.TryGetValue(breakerName, out var ring) ? ring.ToArray() : [];

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? name = null, detail = null, to = null, reason = null;
        var detailTag = Counted.TryGetValue(instrument.Name, out var counted) ? counted.DetailTag : null;
        foreach (var tag in tags)
        {
            if (tag.Key == ResilienceTelemetry.NameTag)
            {
                name = tag.Value as string;
            }
            else if (tag.Key == detailTag)
            {
                detail = Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (tag.Key == ResilienceTelemetry.StateTag)
            {
                to = tag.Value as string;
            }
            else if (tag.Key == ResilienceTelemetry.ReasonTag)
            {
                reason = tag.Value as string;
            }
        }

        name ??= "(unnamed)";
        if (instrument.Name == TransitionsInstrument)
        {
            RecordTransition(name, to ?? "unknown", reason ?? "unknown");
            return;
        }

        var box = _counts.GetOrAdd((counted.Metric, name, detail ?? string.Empty), static _ => new StrongBox<long>());
        Interlocked.Add(ref box.Value, value);
    }

    private void RecordTransition(string breakerName, string to, string reason)
    {
        if (!_registry.TryGet(breakerName, out _))
        {
            return;
        }

        var ring = _transitions.GetOrAdd(breakerName, static (_, capacity) => new BoundedRing<BreakerTransition>(capacity), _transitionsPerBreaker);
        lock (ring)
        {
            // The instrument tags the new state only; the previous one is the last recorded, and a breaker starts closed.
            var previous = ring.ToArray();
            var from = previous.Length > 0 ? previous[^1].To : "closed";
            ring.Add(new BreakerTransition(_time.GetUtcNow(), from, to, reason));
        }
    }
}

/// <summary>One counter of the <c>Resilience</c> meter, summed per dependency.</summary>
internal sealed record CounterValue(string Metric, string Name, string Detail, long Count);

/// <summary>One state change of a breaker, as the status page shows it.</summary>
internal sealed record BreakerTransition(DateTimeOffset At, string From, string To, string Reason);
