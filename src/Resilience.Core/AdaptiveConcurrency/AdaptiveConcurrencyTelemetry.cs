using System.Diagnostics;
using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.AdaptiveConcurrency;

/// <summary>The limit's instruments, once per meter: the limit and the calls in flight of every live limiter, and refusals.</summary>
internal sealed class AdaptiveConcurrencyTelemetry : IResilienceInstruments<AdaptiveConcurrencyTelemetry>
{
    /// <summary>The tag saying why a call was refused: <c>queue_full</c>, <c>wait_expired</c> or <c>sheddable</c>.</summary>
    public const string ReasonQueueFull = "queue_full";
    public const string ReasonWaitExpired = "wait_expired";
    public const string ReasonSheddable = "sheddable";
    public const string PriorityTag = "resilience.priority";

    private readonly Meter _meter;
    private readonly Counter<long> _rejections;
    private readonly Lock _limitersLock = new();
    private readonly List<WeakReference<AdaptiveConcurrencyLimiter>> _limiters = [];
    private bool _gaugesCreated;

    private AdaptiveConcurrencyTelemetry(Meter meter)
    {
        _meter = meter;
        _rejections = meter.CreateCounter<long>(
            "resilience.concurrency_limit.rejections", "{call}", "Calls the adaptive concurrency limit refused, by reason and priority.");
    }

    public static AdaptiveConcurrencyTelemetry Create(Meter meter) => new(meter);

    /// <summary>Observes <paramref name="limiter"/> in the gauges for as long as it lives.</summary>
    public void Register(AdaptiveConcurrencyLimiter limiter)
    {
        lock (_limitersLock)
        {
            _limiters.RemoveAll(static w => !w.TryGetTarget(out _));
            _limiters.Add(new WeakReference<AdaptiveConcurrencyLimiter>(limiter));
            if (!_gaugesCreated)
            {
                // Observable: read only while a listener collects, so a limiter pays nothing per call for them.
                _meter.CreateObservableGauge(
                    "resilience.concurrency_limit.limit", () => Observe(static l => l.Limit), "{call}", "The adaptive concurrency limit in force.");
                _meter.CreateObservableGauge(
                    "resilience.concurrency_limit.in_flight", () => Observe(static l => l.InFlight), "{call}", "Calls in flight through the adaptive concurrency limit.");
                _gaugesCreated = true;
            }
        }
    }

    public void RecordRejection(string name, string reason, CallPriority priority)
    {
        if (_rejections.Enabled)
        {
            var tags = new TagList
            {
                { ResilienceTelemetry.NameTag, name },
                { ResilienceTelemetry.ReasonTag, reason },
                { PriorityTag, PriorityName(priority) },
            };
            _rejections.Add(1, tags);
        }
    }

    private static string PriorityName(CallPriority priority) => priority switch
    {
        CallPriority.Critical => "critical",
        CallPriority.Sheddable => "sheddable",
        _ => "normal",
    };

    private List<Measurement<int>> Observe(Func<AdaptiveConcurrencyLimiter, int> read)
    {
        var measurements = new List<Measurement<int>>();
        lock (_limitersLock)
        {
            foreach (var weak in _limiters)
            {
                if (weak.TryGetTarget(out var limiter))
                {
                    measurements.Add(new Measurement<int>(read(limiter), new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, limiter.Name)));
                }
            }
        }

        return measurements;
    }
}
