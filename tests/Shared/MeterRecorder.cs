using System.Diagnostics.Metrics;
using Resilience.Telemetry;

namespace Resilience.Testing;

/// <summary>Records the measurements of instruments on <c>Resilience</c> meters that pass a filter (e.g. the meters one <see cref="IMeterFactory"/> created).</summary>
internal sealed class MeterRecorder : IDisposable
{
    private readonly Lock _sync = new();
    private readonly List<Recorded> _measurements = [];
    private readonly MeterListener _listener = new();

    public MeterRecorder(Func<Meter, bool> meterFilter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ResilienceTelemetry.MeterName && meterFilter(instrument.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The measurements of <paramref name="instrument"/>, only those tagged <c>resilience.name</c> = <paramref name="name"/> when given.</summary>
    public IReadOnlyList<Recorded> Of(string instrument, string? name = null)
    {
        lock (_sync)
        {
            return _measurements.Where(m => m.Instrument.Name == instrument && (name is null || Equals(m.Tags.GetValueOrDefault(ResilienceTelemetry.NameTag), name))).ToList();
        }
    }

    /// <summary>Every measurement tagged <c>resilience.name</c> = <paramref name="name"/>.</summary>
    public IReadOnlyList<Recorded> Named(string name)
    {
        lock (_sync)
        {
            return _measurements.Where(m => Equals(m.Tags.GetValueOrDefault(ResilienceTelemetry.NameTag), name)).ToList();
        }
    }

    /// <summary>Polls the observable instruments (gauges) now.</summary>
    public void RecordObservableInstruments() => _listener.RecordObservableInstruments();

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        lock (_sync)
        {
            _measurements.Add(new Recorded(instrument, value, copy));
        }
    }

    public sealed record Recorded(Instrument Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);
}
