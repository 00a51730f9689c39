using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Resilience.Telemetry;

/// <summary>
/// One <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="ResilienceTelemetry.MeterName"/> and the instrument
/// sets the features created on it: the static meter when there is no DI, or the meter an <see cref="IMeterFactory"/>
/// creates (scoped to its container) when there is.
/// </summary>
/// <remarks>
/// Each feature's instruments (<c>RetryTelemetry</c>, <c>TimeoutTelemetry</c>, …) live in its own folder and are created
/// once per meter, when the first strategy of that meter is built. A strategy keeps its set in a field, so recording
/// costs a field read more than a static instrument would.
/// </remarks>
internal sealed class ResilienceMeter
{
    private static readonly ResilienceMeter Static = new(ResilienceTelemetry.Meter);
    private static readonly ConditionalWeakTable<Meter, ResilienceMeter> ByMeter = [];

    private readonly Dictionary<Type, object> _instruments = [];

    private ResilienceMeter(Meter meter) => Meter = meter;

    /// <summary>Gets the meter the instruments report on.</summary>
    public Meter Meter { get; }

    /// <summary>The meter of <paramref name="factory"/> (the same one for every call), or the static meter when <see langword="null"/>.</summary>
    public static ResilienceMeter For(IMeterFactory? factory) =>
        factory is null
            ? Static
            : ByMeter.GetValue(
                factory.Create(new MeterOptions(ResilienceTelemetry.MeterName) { Version = ResilienceTelemetry.Meter.Version }),
                static meter => new ResilienceMeter(meter));

    /// <summary>The instruments of kind <typeparamref name="TInstruments"/> on the meter of <paramref name="factory"/>.</summary>
    public static TInstruments Instruments<TInstruments>(IMeterFactory? factory)
        where TInstruments : class, IResilienceInstruments<TInstruments> =>
        For(factory).Instruments<TInstruments>();

    /// <summary>The instruments of kind <typeparamref name="TInstruments"/> on this meter, created on first use.</summary>
    public TInstruments Instruments<TInstruments>()
        where TInstruments : class, IResilienceInstruments<TInstruments>
    {
        // Build time only; a lock keeps one set per meter, so a set that tracks state (the breaker gauge's registries) is never split.
        lock (_instruments)
        {
            if (!_instruments.TryGetValue(typeof(TInstruments), out var set))
            {
                set = TInstruments.Create(Meter);
                _instruments.Add(typeof(TInstruments), set);
            }

            return (TInstruments)set;
        }
    }
}

/// <summary>A feature's instruments, created once per <see cref="ResilienceMeter"/>.</summary>
/// <typeparam name="TSelf">The feature's instrument class.</typeparam>
internal interface IResilienceInstruments<TSelf>
    where TSelf : class, IResilienceInstruments<TSelf>
{
    /// <summary>Creates the feature's instruments on <paramref name="meter"/>.</summary>
    static abstract TSelf Create(Meter meter);
}
