using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Resilience;

/// <summary>The layers shared by <see cref="ResiliencePipelineBuilder"/> and <see cref="ResiliencePipelineBuilder{TResult}"/>.</summary>
/// <typeparam name="TBuilder">The concrete builder, returned by every method so calls chain.</typeparam>
/// <remarks>
/// Each kind of layer is added at most once (again replaces it), in any order, by the kind's extension method
/// (<c>AddRetry</c>, <c>AddCircuitBreaker</c>, …): the pipeline always composes them in one fixed order, outermost first
/// (the fallback, the rate limiter, the total timeout, retry, hedging, the circuit breaker, the attempt timeout, fault
/// injection, then the operation). The order is not the caller's to get wrong; your own layers go in at a named
/// <see cref="CustomLayerPosition"/> (<see cref="AddLayer"/>).
/// </remarks>
public abstract class ResiliencePipelineBuilderBase<TBuilder>
    where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
{
    private readonly PipelineLayerSpec?[] _layers = new PipelineLayerSpec?[LayerKinds.Count];
    private Random _random = Random.Shared;

    private protected ResiliencePipelineBuilderBase(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>Gets the pipeline's name, used in metrics, logs and exception messages.</summary>
    public string Name { get; }

    /// <summary>Gets or sets the clock of every strategy the builder creates.</summary>
    /// <value>Default: <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the random source of every strategy the builder creates (retry jitter, fault injection).</summary>
    /// <remarks>
    /// Set a seeded <c>new Random(seed)</c> in a test to pin the schedule: the same seed gives the same jitter. The
    /// strategies draw from a source other than <see cref="Random.Shared"/> under a lock, so it is safe under concurrent calls.
    /// </remarks>
    /// <value>Default: <see cref="Random.Shared"/>.</value>
    public Random Random
    {
        get => _random;
        set => _random = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Gets or sets where the strategies log.</summary>
    /// <value>Default: <see cref="NullLoggerFactory.Instance"/> (no logging).</value>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Gets or sets the factory of the meter the strategies report on.</summary>
    /// <remarks>
    /// Pipelines registered through DI take the container's <see cref="IMeterFactory"/> (registered by <c>AddMetrics()</c>
    /// and by ASP.NET Core), so their instruments belong to that container's meter. Instrument names and tags are the same.
    /// </remarks>
    /// <value>Default: <see langword="null"/>, the library's static meter named <c>Resilience</c>.</value>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Gets or sets a function that adds tags of your own to the pipeline's duration measurements (<c>resilience.pipeline.duration</c>, <c>resilience.attempt.duration</c>), from the call's context.</summary>
    /// <value>Default: <see langword="null"/>.</value>
    public Telemetry.ResilienceTagEnricher? TelemetryEnricher { get; set; }

    /// <summary>Puts the layer <paramref name="spec"/> describes at its kind's position, replacing any layer of that kind.</summary>
    /// <param name="spec">The layer's validated configuration.</param>
    /// <returns>This builder.</returns>
    internal TBuilder SetLayer(PipelineLayerSpec spec)
    {
        _layers[(int)spec.Kind] = spec;
        return (TBuilder)this;
    }

    /// <summary>Adds a layer of your own at <paramref name="position"/>; several at one position run in the order added, the first outermost.</summary>
    /// <param name="position">Where in the fixed order the layer sits.</param>
    /// <param name="layer">The layer; shared by every call of the pipeline.</param>
    /// <returns>This builder.</returns>
    public TBuilder AddLayer(CustomLayerPosition position, ResilienceLayer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var kind = LayerKinds.Of(position);
        var spec = _layers[(int)kind] as CustomLayer.Spec ?? new CustomLayer.Spec(kind);
        spec.Add(layer);
        _layers[(int)kind] = spec;
        return (TBuilder)this;
    }

    private protected PipelineEngine BuildEngine<TResult>(Func<TResult, bool>? shouldHandleResult)
    {
        var context = new LayerContext<TResult>(Name, TimeProvider, Random, LoggerFactory.CreateLogger("Resilience.Pipeline." + Name), MeterFactory, shouldHandleResult, _layers);
        var layers = new List<PipelineLayer>(_layers.Length);
        foreach (var spec in _layers)
        {
            spec?.AddTo(layers, context);
        }

        return new PipelineEngine(Name, [.. layers], Telemetry.ResilienceMeter.Instruments<Telemetry.PipelineTelemetry>(MeterFactory), TelemetryEnricher);
    }

    /// <summary>Throws when <paramref name="timeout"/> is neither positive nor infinite.</summary>
    internal static void ThrowIfNotPositive(TimeSpan timeout, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(timeout))] string? parameter = null)
    {
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(parameter, timeout, "A timeout must be positive.");
        }
    }
}
