using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Resilience.Telemetry;

namespace Resilience.Npgsql;

/// <summary>The adapter's instrument, one per meter: writes whose outcome is unknown.</summary>
internal sealed class NpgsqlMetrics
{
    // Same meter name as Core's: listeners subscribed to "Resilience" see the adapter's instruments too.
    private static readonly NpgsqlMetrics Static = new(new Meter(ResilienceTelemetry.MeterName));
    private static readonly ConditionalWeakTable<Meter, NpgsqlMetrics> ByMeter = [];

    private readonly Counter<long> _unknownOutcomes;

    private NpgsqlMetrics(Meter meter) =>
        _unknownOutcomes = meter.CreateCounter<long>(
            NpgsqlResilienceEventIds.UnknownOutcomesInstrument, unit: "{write}", description: "Writes whose commit acknowledgement was lost: they may or may not have taken effect.");

    /// <summary>The instrument on the meter of <paramref name="factory"/> (DI's), or on the static meter when <see langword="null"/>.</summary>
    public static NpgsqlMetrics For(IMeterFactory? factory) =>
        factory is null
            ? Static
            : ByMeter.GetValue(factory.Create(new MeterOptions(ResilienceTelemetry.MeterName)), static meter => new NpgsqlMetrics(meter));

    public void RecordUnknownOutcome(string dataSource)
    {
        if (_unknownOutcomes.Enabled)
        {
            _unknownOutcomes.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, dataSource));
        }
    }
}
